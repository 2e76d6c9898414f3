import type { Source } from "@fusion/wire";

/** A `url_citation` annotation with the four fields OpenAI's schema requires. */
export interface UrlCitation {
  type: "url_citation";
  url_citation: { url: string; title: string; start_index: number; end_index: number };
}

const MAX_CITATIONS = 20;
/** A shorter title is too likely to occur in the answer by chance. */
const MIN_TITLE_CHARS = 8;
/** Characters that continue a URL: a match followed by one of them is a longer URL, not this one. */
const URL_CONTINUES = /[A-Za-z0-9\-_~%/?#=&+@]/;

/** Where `url` occurs in `answer` as a whole URL (not the start of a longer one), or -1. */
function urlAt(answer: string, url: string): number {
  for (let at = answer.indexOf(url); at >= 0; at = answer.indexOf(url, at + 1)) {
    const next = answer[at + url.length];
    // A dot ends a URL when the sentence ends there ("see https://a.org/x."), not in "x.html".
    const after = next === "." ? answer[at + url.length + 1] : next;
    if (after === undefined || !URL_CONTINUES.test(after)) return at;
  }
  return -1;
}

/** The span where the answer cites a source: its URL (also without a trailing slash), else its title. */
function spanOf(answer: string, { url, title }: Source): { start: number; end: number } | undefined {
  const spellings = url.endsWith("/") && url.length > 1 ? [url, url.slice(0, -1)] : [url];
  for (const spelling of spellings) {
    const at = urlAt(answer, spelling);
    if (at >= 0) return { start: at, end: at + spelling.length };
  }
  if (title && title.length >= MIN_TITLE_CHARS) {
    const at = answer.indexOf(title);
    if (at >= 0) return { start: at, end: at + title.length };
  }
  return undefined;
}

/**
 * The `url_citation` annotations of a final answer: one for each source the answer cites, with the
 * span of the answer that cites it (`start_index` to `end_index`, end exclusive, as indices into the
 * content string), in the order the answer cites them, at most 20.
 *
 * How a citation is recognised: the answer names the source's URL (the whole URL, or the URL without
 * its trailing slash), else its title (8 characters or more). The writer is not asked to number its
 * references: it writes from the fusion tool's result, whose analysis names its sources by URL, so
 * URLs (and the titles of pages) are what it cites.
 *
 * A source the answer does not cite gets no annotation (an annotation without a span is not valid
 * for OpenAI's schema): it stays in the fusion result, in `fusion.sources` and the analysis items'
 * `sources`.
 */
export function citationsFor(answer: string, sources: Source[]): UrlCitation[] {
  const found: Array<{ at: number; citation: UrlCitation }> = [];
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.url)) continue;
    seen.add(source.url);
    const span = spanOf(answer, source);
    if (!span) continue;
    found.push({
      at: span.start,
      citation: {
        type: "url_citation",
        url_citation: {
          url: source.url,
          title: source.title || source.url,
          start_index: span.start,
          end_index: span.end,
        },
      },
    });
  }
  return found
    .sort((a, b) => a.at - b.at)
    .slice(0, MAX_CITATIONS)
    .map((f) => f.citation);
}
