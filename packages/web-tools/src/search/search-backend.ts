/** Where web_search runs: one of four search APIs, or OpenRouter's own server tool inside the upstream call. */
export type SearchProvider = "searxng" | "brave" | "tavily" | "exa" | "openrouter";

/** The providers this package calls over HTTP (the ones `web_search` runs as a function tool). */
export type HttpSearchProvider = Exclude<SearchProvider, "openrouter">;

export const HTTP_SEARCH_PROVIDERS: readonly HttpSearchProvider[] = ["searxng", "brave", "tavily", "exa"];

/** The providers that need `WEB_SEARCH_API_KEY`. */
export const KEYED_SEARCH_PROVIDERS: readonly HttpSearchProvider[] = ["brave", "tavily", "exa"];

/** Why a search failed, for metrics: the key, the bill, the rate, the clock, the answer, the network, or another status. */
export type SearchErrorReason =
  | "auth"
  | "payment"
  | "rate_limited"
  | "timeout"
  | "malformed"
  | "unreachable"
  | "http_error";

/** Called once for every failed search (not for one the caller cancelled). */
export type OnSearchError = (provider: SearchProvider, reason: SearchErrorReason) => void;

/** One result as the model sees it. */
export interface SearchResultItem {
  title: string;
  url: string;
  snippet: string;
}

/** The HTTP request of one search. */
export interface SearchRequest {
  method: "GET" | "POST";
  url: URL;
  headers: Record<string, string>;
  /** JSON text, for POST. */
  body?: string;
}

/** How a provider reads an error status its own way (Brave answers a bad key with 422). */
export interface StatusReading {
  reason: SearchErrorReason;
  /** Appended to the message, e.g. a configuration hint. */
  hint?: string;
}

/** One search API: how to ask it, and how to read its answer. */
export interface SearchBackend {
  readonly provider: HttpSearchProvider;
  /** The secret this backend sends, so that the runner can keep it out of every message. */
  readonly secret: string | undefined;
  request(query: string, maxResults: number, userAgent: string): SearchRequest;
  /** At most `maxResults` normalised results of a 2xx JSON answer; throws a malformed SearchFailure without a results list. */
  parse(payload: unknown, maxResults: number): SearchResultItem[];
  /** The provider's own reading of an error status; undefined: the common rules (`readStatus`). */
  readStatus?(status: number, body: unknown): StatusReading | undefined;
}
