import { request } from "undici";
import { withTimeout } from "./abort.ts";
import { discard, readLimited } from "./body.ts";
import type { ResolvedWebToolsConfig } from "./config.ts";
import { errorMessage, ToolError } from "./tool-error.ts";

export interface WebSearchArgs {
  query: string;
  maxResults: number;
}

export interface SearchResultItem {
  title: string;
  url: string;
  snippet: string;
}

export interface WebSearchResult {
  query: string;
  results: SearchResultItem[];
}

const SEARCH_UNAVAILABLE =
  "web_search is not available: no search backend is configured on this server (SEARXNG_URL)";

const SNIPPET_CHARS = 500;
const MAX_SEARCH_BODY = 5_000_000;

/** `${base}/search?q=...&format=json`, keeping any path prefix of the base URL. */
export function searchUrl(base: string, query: string): URL {
  const url = new URL("search", base.endsWith("/") ? base : `${base}/`);
  url.searchParams.set("q", query);
  url.searchParams.set("format", "json");
  return url;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function clean(value: unknown, limit: number): string {
  if (typeof value !== "string") return "";
  const text = value.replace(/\s+/g, " ").trim();
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** Maps a SearXNG JSON answer to at most `max` results with http(s) URLs. */
export function parseSearxngResults(payload: unknown, max: number): SearchResultItem[] {
  if (!isRecord(payload) || !Array.isArray(payload.results)) {
    throw new ToolError("search backend returned an unexpected answer (no results list)");
  }
  const results: SearchResultItem[] = [];
  for (const item of payload.results) {
    if (results.length >= max) break;
    if (!isRecord(item)) continue;
    const url = httpUrl(item.url);
    if (url === undefined) continue;
    results.push({ title: clean(item.title, 300), url, snippet: clean(item.content, SNIPPET_CHARS) });
  }
  return results;
}

/**
 * Queries the configured SearXNG JSON API (operator-configured and internal, so not subject to the
 * web_fetch SSRF guard). Throws ToolError on failures; rejects with the signal's reason on abort.
 */
export async function webSearch(
  args: WebSearchArgs,
  config: ResolvedWebToolsConfig,
  signal?: AbortSignal,
): Promise<WebSearchResult> {
  signal?.throwIfAborted();
  if (config.searxngUrl === undefined) throw new ToolError(SEARCH_UNAVAILABLE);
  let url: URL;
  try {
    url = searchUrl(config.searxngUrl, args.query);
  } catch {
    throw new ToolError("web_search is misconfigured on this server: SEARXNG_URL is not a valid URL");
  }
  const { combined, timeout } = withTimeout(signal, config.searchTimeoutMs);
  let text: string;
  try {
    const response = await request(url, {
      method: "GET",
      signal: combined,
      headers: { accept: "application/json", "user-agent": config.userAgent },
    });
    if (response.statusCode < 200 || response.statusCode >= 300) {
      discard(response.body);
      const hint = response.statusCode === 403 ? " (is the json format enabled in SearXNG's settings?)" : "";
      throw new ToolError(`search backend returned HTTP ${response.statusCode}${hint}`);
    }
    const { bytes } = await readLimited(response.body, MAX_SEARCH_BODY);
    discard(response.body);
    text = bytes.toString("utf8");
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) throw new ToolError(`web_search timed out after ${config.searchTimeoutMs} ms`);
    if (error instanceof ToolError) throw error;
    throw new ToolError(`search backend unreachable: ${errorMessage(error)}`, { cause: error });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new ToolError("search backend returned invalid JSON");
  }
  return { query: args.query, results: parseSearxngResults(payload, args.maxResults) };
}
