export interface UrlCitation {
  type: "url_citation";
  url_citation: { url: string; title: string; start_index?: number; end_index?: number };
}

const MAX_CITATIONS = 20;

/**
 * The sources the panel and judge used, as `url_citation` annotations of the final answer. Where the
 * answer names a source (its URL, else its title), the annotation carries that span.
 */
export function citationsFor(answer: string, sources: Array<{ url: string; title?: string }>): UrlCitation[] {
  const found: Array<{ at: number; citation: UrlCitation }> = [];
  const rest: UrlCitation[] = [];
  for (const { url, title } of sources) {
    let at = answer.indexOf(url);
    let length = url.length;
    if (at < 0 && title && title.length >= 8) {
      at = answer.indexOf(title);
      length = title.length;
    }
    const base = { url, title: title || url };
    if (at >= 0) {
      found.push({
        at,
        citation: {
          type: "url_citation",
          url_citation: { ...base, start_index: at, end_index: at + length },
        },
      });
    } else {
      rest.push({ type: "url_citation", url_citation: base });
    }
  }
  found.sort((a, b) => a.at - b.at);
  return [...found.map((f) => f.citation), ...rest].slice(0, MAX_CITATIONS);
}
