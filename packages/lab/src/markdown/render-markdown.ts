import DOMPurify from "dompurify";
import { Marked } from "marked";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

// Raw HTML in a model's Markdown is shown as the text it is, never parsed as markup; an image becomes
// a link to it (the page loads nothing a model names).
const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    image: ({ href, text }) => `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`,
  },
});

// Every link a model wrote opens in a new tab that cannot reach back to this page.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const PURIFY = {
  // No images (none are rendered: no tracking pixels), no forms, no styles, no frames.
  FORBID_TAGS: ["img", "style", "form", "input", "button", "textarea", "select", "iframe", "svg", "math"],
  FORBID_ATTR: ["style", "srcset", "formaction"],
  // Links only to http(s), mailto and this page's anchors: no `javascript:` or `data:` URL survives.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
};

/**
 * A model's Markdown as safe HTML. marked renders it with any raw HTML escaped (so `<script>` or
 * `<img onerror>` is shown as text), then DOMPurify removes whatever could still run or load: event
 * handlers, styles, images, and links other than http(s) and mailto.
 */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return DOMPurify.sanitize(html, PURIFY);
}
