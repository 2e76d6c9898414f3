import { convert, type SelectorDefinition } from "html-to-text";

/** Elements that are page furniture rather than content. */
const SKIPPED = [
  "script",
  "style",
  "noscript",
  "nav",
  "header",
  "footer",
  "aside",
  "form",
  "svg",
  "iframe",
  "template",
  "object",
  "embed",
  "canvas",
  "img",
  "picture",
  "video",
  "audio",
  "button",
  "select",
  "[hidden]",
  '[aria-hidden="true"]',
  '[role="navigation"]',
];

const SELECTORS: SelectorDefinition[] = [
  ...SKIPPED.map((selector): SelectorDefinition => ({ selector, format: "skip" })),
  { selector: "a", options: { ignoreHref: true } },
  ...["h1", "h2", "h3", "h4", "h5", "h6"].map(
    (selector): SelectorDefinition => ({ selector, options: { uppercase: false } }),
  ),
  // Data tables as aligned columns (the default "table" format runs cells together).
  { selector: "table", format: "dataTable", options: { uppercaseHeaderCells: false, maxColumnWidth: 80 } },
];

/** Trims line ends and collapses runs of blank lines into one. */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Readable text of an HTML document: no scripts, styles, navigation, link URLs or images. */
export function htmlToReadableText(html: string): string {
  return tidyText(convert(html, { wordwrap: false, selectors: SELECTORS }));
}

/** The document's `<title>`, entities decoded and whitespace collapsed; "" when there is none. */
export function extractTitle(html: string): string {
  const match = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html);
  const raw = match?.[1];
  if (!raw) return "";
  const text = convert(raw, { wordwrap: false }).replace(/\s+/g, " ").trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
