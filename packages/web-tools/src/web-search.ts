import type { ResolvedWebToolsConfig } from "./config.ts";
import type { SearchBackend, SearchProvider, SearchResultItem } from "./search/search-backend.ts";
import { runSearch } from "./search/search-runner.ts";
import { ToolError } from "./tool-error.ts";

export interface WebSearchArgs {
  query: string;
  maxResults: number;
}

export interface WebSearchResult {
  query: string;
  results: SearchResultItem[];
}

const SEARCH_UNAVAILABLE =
  "web_search is not available: no search backend is configured on this server (WEB_SEARCH_PROVIDER, SEARXNG_URL)";
const SEARCH_IN_UPSTREAM =
  "web_search is not available as a function on this server: the model's provider (OpenRouter) runs web search itself";

/**
 * Runs one search on the configured backend (see `runSearch` for its time, size and retry rules).
 * Throws ToolError on failures; rejects with the signal's reason on abort.
 */
export async function webSearch(
  args: WebSearchArgs,
  search: { provider: SearchProvider | undefined; backend: SearchBackend | undefined },
  config: ResolvedWebToolsConfig,
  signal?: AbortSignal,
): Promise<WebSearchResult> {
  signal?.throwIfAborted();
  if (search.backend === undefined) {
    throw new ToolError(search.provider === "openrouter" ? SEARCH_IN_UPSTREAM : SEARCH_UNAVAILABLE);
  }
  const results = await runSearch(search.backend, args.query, args.maxResults, {
    timeoutMs: config.searchTimeoutMs,
    userAgent: config.userAgent,
    onSearchError: config.onSearchError,
    signal,
  });
  return { query: args.query, results };
}
