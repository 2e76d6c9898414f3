import type { SearchProvider, SearchResultItem } from "./search-backend.ts";
import { SearchFailure } from "./search-failure.ts";

const TITLE_CHARS = 300;
const SNIPPET_CHARS = 500;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `path` under a provider's base URL, keeping any path prefix the base has (a proxy's, a test's). */
export function endpoint(baseUrl: string, path: string): URL {
  return new URL(path, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
}

/** The `results` list of a provider's answer; a malformed-answer failure when there is none. */
export function resultsList(provider: SearchProvider, payload: unknown): unknown[] {
  if (!isRecord(payload) || !Array.isArray(payload.results)) {
    throw new SearchFailure(
      provider,
      "malformed",
      "web search provider returned an unexpected answer (no results list)",
    );
  }
  return payload.results;
}

/** The normalised href of an http(s) URL; undefined for anything else. */
function httpUrl(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Whitespace collapsed and trimmed, cut to `limit` characters with an ellipsis; "" for a non-string. */
function clean(value: unknown, limit: number): string {
  if (typeof value !== "string") return "";
  const text = value.replace(/\s+/g, " ").trim();
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** One result as a provider gives it, before normalising. */
export interface RawResult {
  title: unknown;
  url: unknown;
  snippet: unknown;
}

/**
 * At most `max` normalised results: http(s) URLs only (others and repeats are skipped), titles and
 * snippets whitespace-collapsed and capped. Items that are not objects are skipped.
 */
export function normaliseResults(
  items: readonly unknown[],
  max: number,
  pick: (item: Record<string, unknown>) => RawResult,
): SearchResultItem[] {
  const results: SearchResultItem[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (results.length >= max) break;
    if (!isRecord(item)) continue;
    const raw = pick(item);
    const url = httpUrl(raw.url);
    if (url === undefined || seen.has(url)) continue;
    seen.add(url);
    results.push({ title: clean(raw.title, TITLE_CHARS), url, snippet: clean(raw.snippet, SNIPPET_CHARS) });
  }
  return results;
}
