import type { Source } from "@fusion/wire";
import { sourceLabel } from "../format.ts";
import { safeHref } from "../markdown/safe-href.ts";

/** The sources behind an analysis item, as links (titles from the fusion's sources). */
export function SourceLinks(props: { urls: readonly string[] | undefined; known: readonly Source[] }) {
  const urls = props.urls ?? [];
  if (urls.length === 0) return null;
  return (
    <span class="sources">
      {" Sources: "}
      {urls.map((url, i) => {
        const label = sourceLabel(url, props.known.find((s) => s.url === url)?.title);
        const href = safeHref(url);
        return (
          <span key={url}>
            {i > 0 ? ", " : ""}
            {href ? (
              <a href={href} target="_blank" rel="noopener noreferrer">
                {label}
              </a>
            ) : (
              label
            )}
          </span>
        );
      })}
    </span>
  );
}
