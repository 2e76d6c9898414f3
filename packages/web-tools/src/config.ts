import { lookup as dnsLookup } from "node:dns/promises";
import type { OnSearchError, SearchProvider } from "./search/search-backend.ts";

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** DNS resolution: every address of a host name. */
export type LookupFn = (hostname: string) => Promise<ResolvedAddress[]>;

export interface WebToolsConfig {
  /**
   * Where web_search runs: a search API (searxng, brave, tavily, exa), or `openrouter` (the upstream
   * runs it as a server tool, see `WebTools.serverTools`). Default: searxng when `searxngUrl` is set,
   * else none (web_search is not offered).
   */
  searchProvider?: SearchProvider | undefined;
  /** Base URL of a SearXNG instance. */
  searxngUrl?: string | undefined;
  /** The key of brave, tavily or exa (required for them). Never put in a message or a log. */
  searchApiKey?: string | undefined;
  /** Base URL of the search API instead of the provider's public one (or of `searxngUrl`): proxies, tests. */
  searchUrl?: string | undefined;
  /** Called once for every failed search, e.g. to count it. */
  onSearchError?: OnSearchError | undefined;
  /** Host names (lowercase, optionally `host:port`) web_fetch may reach although they resolve to non-public addresses. */
  allowHosts?: string[];
  /** Time limit for a whole fetch including redirects, default 15000. */
  fetchTimeoutMs?: number;
  /** Maximum response body bytes read, default 2_000_000. */
  maxBytes?: number;
  /** Maximum text characters returned to the model, default 20_000. */
  maxChars?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Time limit of one search, its retry included; default 10000. */
  searchTimeoutMs?: number;
  /** Default 5. */
  defaultSearchResults?: number;
  /** Default "FusionBot/0.1 (+self-hosted)". */
  userAgent?: string;
  /** DNS resolution, default node:dns/promises lookup with `all: true`; injectable for tests. */
  lookup?: LookupFn;
  /** Tool calls (searches and fetches) running at once in this process, default 16; more wait. */
  concurrency?: number;
  /** Tool calls of one model turn that run, default 8; the others get a tool error. */
  maxCallsPerTurn?: number;
}

export interface ResolvedWebToolsConfig {
  onSearchError: OnSearchError | undefined;
  allowHosts: string[];
  fetchTimeoutMs: number;
  maxBytes: number;
  maxChars: number;
  maxRedirects: number;
  searchTimeoutMs: number;
  defaultSearchResults: number;
  userAgent: string;
  lookup: LookupFn;
  concurrency: number;
  maxCallsPerTurn: number;
}

const defaultLookup: LookupFn = async (hostname) => {
  const results = await dnsLookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

export function resolveConfig(config: WebToolsConfig): ResolvedWebToolsConfig {
  return {
    onSearchError: config.onSearchError,
    allowHosts: config.allowHosts ?? [],
    fetchTimeoutMs: positive(config.fetchTimeoutMs, 15_000),
    maxBytes: positive(config.maxBytes, 2_000_000),
    maxChars: positive(config.maxChars, 20_000),
    maxRedirects:
      config.maxRedirects !== undefined && config.maxRedirects >= 0 ? Math.floor(config.maxRedirects) : 5,
    searchTimeoutMs: positive(config.searchTimeoutMs, 10_000),
    defaultSearchResults: Math.min(25, Math.max(1, Math.floor(positive(config.defaultSearchResults, 5)))),
    userAgent: config.userAgent ?? "FusionBot/0.1 (+self-hosted)",
    lookup: config.lookup ?? defaultLookup,
    concurrency: Math.floor(positive(config.concurrency, 16)),
    maxCallsPerTurn: Math.floor(positive(config.maxCallsPerTurn, 8)),
  };
}
