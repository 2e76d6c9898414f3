import { endpoint, normaliseResults, resultsList } from "./normalise.ts";
import type { SearchBackend, SearchResultItem } from "./search-backend.ts";

/** `${base}/search?q=...&format=json`, keeping any path prefix of the base URL. */
export function searchUrl(base: string, query: string): URL {
  const url = endpoint(base, "search");
  url.searchParams.set("q", query);
  url.searchParams.set("format", "json");
  return url;
}

/** Maps a SearXNG JSON answer (`results[]` of `{url, title, content}`) to at most `max` results. */
export function parseSearxngResults(payload: unknown, max: number): SearchResultItem[] {
  return normaliseResults(resultsList("searxng", payload), max, (item) => ({
    title: item.title,
    url: item.url,
    snippet: item.content,
  }));
}

/**
 * A SearXNG instance's JSON API (operator-run and usually internal, so not subject to the web_fetch
 * SSRF guard). It takes no key and no result count: the answer is cut to the count asked for.
 */
export function searxngBackend(baseUrl: string): SearchBackend {
  return {
    provider: "searxng",
    secret: undefined,
    request: (query, _maxResults, userAgent) => ({
      method: "GET",
      url: searchUrl(baseUrl, query),
      headers: { accept: "application/json", "user-agent": userAgent },
    }),
    parse: parseSearxngResults,
    // SearXNG has no key: its 401/403 are a proxy or its settings, not a rejected key.
    readStatus: (status) =>
      status === 403
        ? { reason: "http_error", hint: " (is the json format enabled in SearXNG's settings?)" }
        : status === 401
          ? { reason: "http_error" }
          : undefined,
  };
}
