import { useMemo } from "preact/hooks";
import { renderMarkdown } from "../markdown/render-markdown.ts";

/** A model's Markdown, rendered and sanitised (no script, event handler or unsafe URL survives). */
export function MarkdownView(props: { markdown: string }) {
  const html = useMemo(() => renderMarkdown(props.markdown), [props.markdown]);
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
