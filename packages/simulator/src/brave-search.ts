import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import { type SearchResult, searchResults } from "./search.ts";
import type { SimulatorState } from "./state.ts";

/**
 * Brave's Web Search API (`GET /res/v1/web/search?q=…&count=…`, key in `X-Subscription-Token`), served
 * from the simulator's search pages. The shapes follow Brave's API reference
 * (https://api-dashboard.search.brave.com/api-reference/web/search/get: `WebSearchApiResponse` with
 * `query`, `mixed` and `web.results[]` of `SearchResult`; errors as `ErrorResponse`, an invalid or
 * missing subscription token being a 422 `SUBSCRIPTION_TOKEN_INVALID` of the `authentication`
 * component). Descriptions carry `<strong>` around the query's words, as Brave's `text_decorations`
 * (on by default) does.
 */

/** The subscription token the simulator's Brave API accepts unless told another (`SimulatorState.search`). */
export const BRAVE_SUBSCRIPTION_TOKEN = "sim-brave-subscription-token";

/** Brave's `count`: 1 to 20, default 20. */
const MAX_COUNT = 20;

function braveError(c: Context, status: 422 | 500, code: string, detail: string, meta: object) {
  return c.json(
    {
      type: "ErrorResponse",
      error: { id: randomUUID(), status, code, detail, meta },
      time: Math.floor(Date.now() / 1000),
    },
    status,
  );
}

/** The query's words in `<strong>`, as Brave highlights them in a description. */
function decorate(text: string, query: string): string {
  const words = query.split(/\s+/).filter((w) => /^[A-Za-z0-9]+$/.test(w));
  if (words.length === 0) return text;
  return text.replace(new RegExp(`\\b(${words.join("|")})\\b`, "gi"), "<strong>$1</strong>");
}

function webResult(result: SearchResult, query: string) {
  const url = new URL(result.url);
  return {
    title: result.title,
    url: result.url,
    is_source_local: false,
    is_source_both: false,
    description: decorate(result.content, query),
    profile: { name: url.hostname, url: result.url, long_name: url.hostname, img: "" },
    language: "en",
    family_friendly: true,
    type: "search_result",
    subtype: "generic",
    is_live: false,
    meta_url: {
      scheme: url.protocol.replace(":", ""),
      netloc: url.host,
      hostname: url.hostname,
      favicon: "",
      path: `› ${url.pathname.split("/").filter(Boolean).join(" › ")}`,
    },
  };
}

/** `GET /res/v1/web/search`; each search is recorded (path, headers, `q` and `count`) like a chat request. */
export function handleBraveSearch(c: Context, state: SimulatorState): Response {
  const body = { q: c.req.query("q") ?? null, count: c.req.query("count") ?? null };
  state.record({ path: c.req.path, model: null, role: null, stream: false, headers: c.req.header(), body });
  if (c.req.header("x-subscription-token") !== (state.search.braveToken ?? BRAVE_SUBSCRIPTION_TOKEN)) {
    return braveError(c, 422, "SUBSCRIPTION_TOKEN_INVALID", "The provided subscription token is invalid.", {
      component: "authentication",
    });
  }
  if (state.search.fail) {
    return braveError(c, 500, "INTERNAL_ERROR", "An internal error occurred (simulated).", {
      component: "search",
    });
  }
  const query = c.req.query("q") ?? "";
  const countParam = c.req.query("count");
  const count = countParam === undefined ? MAX_COUNT : Number(countParam);
  if (query.trim() === "" || !Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    const loc = query.trim() === "" ? ["query", "q"] : ["query", "count"];
    return braveError(c, 422, "VALIDATION", "Unable to validate request parameter(s)", {
      errors: [
        { type: "value_error", loc, msg: "invalid value", input: loc[1] === "q" ? query : countParam },
      ],
    });
  }
  const results = searchResults(query, new URL(c.req.url).origin).slice(0, count);
  return c.json({
    type: "search",
    query: {
      original: query,
      show_strict_warning: false,
      is_navigational: false,
      is_news_breaking: false,
      spellcheck_off: true,
      country: "us",
      bad_results: false,
      should_fallback: false,
      postal_code: "",
      city: "",
      header_country: "",
      more_results_available: false,
      state: "",
    },
    mixed: {
      type: "mixed",
      main: results.map((_, index) => ({ type: "web", index, all: false })),
      top: [],
      side: [],
    },
    web: { type: "search", results: results.map((r) => webResult(r, query)), family_friendly: true },
  });
}
