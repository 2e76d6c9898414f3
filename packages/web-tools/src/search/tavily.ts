import { endpoint, normaliseResults, resultsList } from "./normalise.ts";
import type { SearchBackend } from "./search-backend.ts";

export const TAVILY_BASE_URL = "https://api.tavily.com";
/** Tavily's `max_results` goes up to 20. */
const TAVILY_MAX_RESULTS = 20;

/** Tavily: `POST {base}/search` with a bearer key and `{query, max_results, ...}`; results in `results[]` of `{title, url, content}`. */
export function tavilyBackend(baseUrl: string, apiKey: string): SearchBackend {
  return {
    provider: "tavily",
    secret: apiKey,
    request: (query, maxResults, userAgent) => ({
      method: "POST",
      url: endpoint(baseUrl, "search"),
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        authorization: `Bearer ${apiKey}`,
        "user-agent": userAgent,
      },
      body: JSON.stringify({
        query,
        max_results: Math.min(maxResults, TAVILY_MAX_RESULTS),
        search_depth: "basic",
        include_answer: false,
        include_raw_content: false,
        include_images: false,
      }),
    }),
    parse: (payload, max) =>
      normaliseResults(resultsList("tavily", payload), max, (item) => ({
        title: item.title,
        url: item.url,
        snippet: item.content,
      })),
    // 432: the plan's credits are used up; 433: the pay-as-you-go limit is reached.
    readStatus: (status) => (status === 432 || status === 433 ? { reason: "payment" } : undefined),
  };
}
