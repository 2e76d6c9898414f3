import { convert } from "html-to-text";
import { endpoint, isRecord, normaliseResults } from "./normalise.ts";
import type { SearchBackend, StatusReading } from "./search-backend.ts";
import { SearchFailure } from "./search-failure.ts";

export const BRAVE_BASE_URL = "https://api.search.brave.com";
/** Brave's web search returns at most 20 results per request. */
const BRAVE_MAX_COUNT = 20;

/** Brave marks matches in titles and descriptions with HTML (`<strong>`) and escapes entities. */
function plainText(value: unknown): unknown {
  if (typeof value !== "string" || !/[<&]/.test(value)) return value;
  return convert(value, { wordwrap: false });
}

/** The `code` of a Brave error answer (`{error: {code}}`, or `{errors: [{code}]}` as its reference shows). */
function errorCode(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const first = Array.isArray(body.errors) ? body.errors[0] : undefined;
  const error = isRecord(body.error) ? body.error : isRecord(first) ? first : undefined;
  return typeof error?.code === "string" ? error.code : undefined;
}

/**
 * Brave answers a bad or missing key with 422 (`SUBSCRIPTION_TOKEN_INVALID`), and a used-up plan
 * with 429 `QUOTA_LIMITED` (a rate limit is 429 `RATE_LIMITED`).
 */
function readBraveStatus(status: number, body: unknown): StatusReading | undefined {
  const code = errorCode(body);
  if (code === "SUBSCRIPTION_TOKEN_INVALID" || code === "SUBSCRIPTION_TOKEN_MISSING")
    return { reason: "auth" };
  if (status === 429 && code === "QUOTA_LIMITED") return { reason: "payment" };
  return undefined;
}

/** Brave Search API: `GET {base}/res/v1/web/search?q=&count=` with `X-Subscription-Token`; results in `web.results[]`. */
export function braveBackend(baseUrl: string, apiKey: string): SearchBackend {
  return {
    provider: "brave",
    secret: apiKey,
    request: (query, maxResults, userAgent) => {
      const url = endpoint(baseUrl, "res/v1/web/search");
      url.searchParams.set("q", query);
      url.searchParams.set("count", String(Math.min(maxResults, BRAVE_MAX_COUNT)));
      return {
        method: "GET",
        url,
        headers: { accept: "application/json", "user-agent": userAgent, "x-subscription-token": apiKey },
      };
    },
    parse: (payload, max) => {
      if (!isRecord(payload)) throw malformed();
      const web = payload.web;
      // `web` is optional in a search answer: Brave leaves it out when nothing matched.
      if (web === undefined && payload.type === "search") return [];
      if (!isRecord(web) || !Array.isArray(web.results)) throw malformed();
      return normaliseResults(web.results, max, (item) => ({
        title: plainText(item.title),
        url: item.url,
        snippet: plainText(item.description),
      }));
    },
    readStatus: readBraveStatus,
  };
}

function malformed(): SearchFailure {
  return new SearchFailure(
    "brave",
    "malformed",
    "web search provider returned an unexpected answer (no web.results list)",
  );
}
