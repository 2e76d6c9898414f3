import { endpoint, normaliseResults, resultsList } from "./normalise.ts";
import type { SearchBackend } from "./search-backend.ts";

export const EXA_BASE_URL = "https://api.exa.ai";
/** Characters of highlight asked for per result: about one snippet's worth. */
const HIGHLIGHT_CHARS = 500;

/** The snippet of an Exa result: its highlights, else its summary, else its text. */
function snippet(item: Record<string, unknown>): unknown {
  if (Array.isArray(item.highlights)) {
    const parts = item.highlights.filter((h): h is string => typeof h === "string" && h.trim() !== "");
    if (parts.length > 0) return parts.join(" … ");
  }
  if (typeof item.summary === "string" && item.summary.trim() !== "") return item.summary;
  return item.text;
}

/**
 * Exa: `POST {base}/search` with `x-api-key` and `{query, numResults, contents: {highlights}}`;
 * results in `results[]` of `{title, url, highlights | summary | text}`.
 */
export function exaBackend(baseUrl: string, apiKey: string): SearchBackend {
  return {
    provider: "exa",
    secret: apiKey,
    request: (query, maxResults, userAgent) => ({
      method: "POST",
      url: endpoint(baseUrl, "search"),
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "x-api-key": apiKey,
        "user-agent": userAgent,
      },
      body: JSON.stringify({
        query,
        type: "auto",
        numResults: maxResults,
        contents: { highlights: { maxCharacters: HIGHLIGHT_CHARS } },
      }),
    }),
    parse: (payload, max) =>
      normaliseResults(resultsList("exa", payload), max, (item) => ({
        title: item.title,
        url: item.url,
        snippet: snippet(item),
      })),
  };
}
