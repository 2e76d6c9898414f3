import { type DIALECTS, resolveCapabilities } from "@fusion/llm-client";
import type { SearchProvider } from "./search-backend.ts";
import { KEYED_SEARCH_PROVIDERS } from "./search-backend.ts";
import type { SearchOptions } from "./search-setup.ts";

/** What `WEB_SEARCH_PROVIDER` may say: a provider, or `none` (no web search even when one could run). */
export type WebSearchProviderSetting = SearchProvider | "none";

/** The worker settings that choose where web_search runs. */
export interface SearchEnv {
  WEB_SEARCH_PROVIDER?: WebSearchProviderSetting | undefined;
  WEB_SEARCH_API_KEY?: string | undefined;
  WEB_SEARCH_URL?: string | undefined;
  SEARXNG_URL?: string | undefined;
  /** The upstream: OpenRouter (its host, or `UPSTREAM_DIALECT=openrouter`) can run web search itself. */
  UPSTREAM_BASE_URL?: string | undefined;
  UPSTREAM_DIALECT?: (typeof DIALECTS)[number] | undefined;
}

/** A web search setting that cannot work; the message names each variable, one line per problem. */
export class SearchConfigError extends Error {
  override name = "SearchConfigError";
}

const SETTINGS: readonly string[] = ["searxng", "brave", "tavily", "exa", "openrouter", "none"];

function set(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/** The host of a URL for a message (never its credentials or path). */
function hostOf(value: string | undefined): string {
  try {
    return value ? new URL(value).host : "unset";
  } catch {
    return "not a URL";
  }
}

/**
 * Where web_search runs, from the environment. `WEB_SEARCH_PROVIDER` decides when set (`none`: no
 * search). Unset: searxng when `SEARXNG_URL` is set, else openrouter when the upstream is OpenRouter,
 * else none. Throws a SearchConfigError naming the variables when the setting cannot work: a keyed
 * provider (brave, tavily, exa) without `WEB_SEARCH_API_KEY`, a key or `WEB_SEARCH_URL` without a
 * provider to use them, searxng without a URL, openrouter with another upstream, a URL that is not
 * http(s).
 */
export function searchOptionsFromEnv(env: SearchEnv): SearchOptions {
  const problems: string[] = [];
  const setting = set(env.WEB_SEARCH_PROVIDER)?.toLowerCase();
  const key = set(env.WEB_SEARCH_API_KEY);
  const searchUrl = set(env.WEB_SEARCH_URL);
  const searxngUrl = set(env.SEARXNG_URL);
  for (const [variable, value] of [
    ["WEB_SEARCH_URL", searchUrl],
    ["SEARXNG_URL", searxngUrl],
  ] as const) {
    if (value !== undefined && !isHttpUrl(value)) problems.push(`${variable}: must be an http(s) URL`);
  }
  const upstream = set(env.UPSTREAM_BASE_URL);
  const dialect =
    env.UPSTREAM_DIALECT ?? (upstream === undefined ? undefined : resolveCapabilities(upstream).dialect);
  const openRouterUpstream = dialect === "openrouter";

  let provider: SearchProvider | undefined;
  if (setting === undefined) {
    if (key !== undefined) {
      problems.push(
        "WEB_SEARCH_PROVIDER: WEB_SEARCH_API_KEY is set; name its provider (brave, tavily or exa)",
      );
    } else if (searchUrl !== undefined && searxngUrl === undefined) {
      problems.push("WEB_SEARCH_PROVIDER: WEB_SEARCH_URL is set; name the provider it serves");
    }
    provider = searxngUrl !== undefined ? "searxng" : openRouterUpstream ? "openrouter" : undefined;
  } else if (!SETTINGS.includes(setting)) {
    problems.push(`WEB_SEARCH_PROVIDER: must be one of ${SETTINGS.join(", ")}`);
  } else if (setting !== "none") {
    provider = setting as SearchProvider;
    if ((KEYED_SEARCH_PROVIDERS as readonly string[]).includes(setting) && key === undefined) {
      problems.push(`WEB_SEARCH_API_KEY: WEB_SEARCH_PROVIDER=${setting} needs its API key`);
    }
    if (setting === "searxng" && searxngUrl === undefined && searchUrl === undefined) {
      problems.push("SEARXNG_URL: WEB_SEARCH_PROVIDER=searxng needs the URL of a SearXNG instance");
    }
    if (setting === "openrouter" && !openRouterUpstream) {
      problems.push(
        `WEB_SEARCH_PROVIDER: openrouter needs OpenRouter as the upstream (UPSTREAM_BASE_URL is ${hostOf(upstream)})`,
      );
    }
  }
  if (problems.length > 0) {
    throw new SearchConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  if (provider === undefined) return {};
  return {
    searchProvider: provider,
    ...(searxngUrl === undefined ? {} : { searxngUrl }),
    ...(key === undefined || provider === "searxng" || provider === "openrouter"
      ? {}
      : { searchApiKey: key }),
    ...(searchUrl === undefined || provider === "openrouter" ? {} : { searchUrl }),
  };
}
