import type { Source } from "@fusion/wire";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The sources a provider cited itself, from the `url_citation` annotations of a panelist's answer
 * (e.g. OpenRouter's web plugin): `{ type: "url_citation", url_citation: { url, title, ... } }`, or the
 * same fields at the top level. An empty title is left out; other annotations are ignored.
 */
export function annotatedSources(annotations: unknown[] | undefined): Source[] {
  const out: Source[] = [];
  for (const annotation of annotations ?? []) {
    if (!isRecord(annotation) || annotation.type !== "url_citation") continue;
    const citation = isRecord(annotation.url_citation) ? annotation.url_citation : annotation;
    const { url, title } = citation;
    if (typeof url !== "string" || !/^https?:\/\//i.test(url)) continue;
    out.push(typeof title === "string" && title.trim() ? { url, title } : { url });
  }
  return out;
}

/** The sources in order, each URL once (the first with a title wins its title). */
export function mergeSources(...lists: Source[][]): Source[] {
  const byUrl = new Map<string, Source>();
  for (const source of lists.flat()) {
    const known = byUrl.get(source.url);
    if (!known) byUrl.set(source.url, source);
    else if (!known.title && source.title) byUrl.set(source.url, { ...known, title: source.title });
  }
  return [...byUrl.values()];
}
