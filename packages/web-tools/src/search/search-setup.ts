import { BRAVE_BASE_URL, braveBackend } from "./brave.ts";
import { EXA_BASE_URL, exaBackend } from "./exa.ts";
import type { SearchBackend, SearchProvider } from "./search-backend.ts";
import { searxngBackend } from "./searxng.ts";
import { TAVILY_BASE_URL, tavilyBackend } from "./tavily.ts";

export interface SearchOptions {
  searchProvider?: SearchProvider | undefined;
  searxngUrl?: string | undefined;
  searchApiKey?: string | undefined;
  searchUrl?: string | undefined;
}

/** The search provider of a configuration, and the backend that calls it (none for openrouter). */
export interface SearchSetup {
  provider: SearchProvider | undefined;
  backend: SearchBackend | undefined;
}

function trimmed(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}

function httpBase(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${what} is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new Error(`${what} is not an http(s) URL`);
  return url;
}

/**
 * The provider: `searchProvider`, else searxng when `searxngUrl` is set, else none. Its base URL:
 * `searchUrl`, else `searxngUrl` for searxng, else the provider's public API. Throws (at start-up)
 * for a provider that cannot work: searxng without a URL, a keyed provider without a key, a URL that
 * is not http(s).
 */
export function setUpSearch(options: SearchOptions): SearchSetup {
  const searxngUrl = trimmed(options.searxngUrl);
  const provider = options.searchProvider ?? (searxngUrl === undefined ? undefined : "searxng");
  if (provider === undefined || provider === "openrouter") return { provider, backend: undefined };
  const override = trimmed(options.searchUrl);
  const key = trimmed(options.searchApiKey);
  const apiKey = (): string => {
    if (key === undefined) throw new Error(`web search provider ${provider} needs an API key`);
    return key;
  };
  const base = (publicApi: string) => httpBase(override ?? publicApi, "the search URL");
  switch (provider) {
    case "searxng": {
      const url = override ?? searxngUrl;
      if (url === undefined) throw new Error("web search provider searxng needs the SearXNG URL");
      return { provider, backend: searxngBackend(httpBase(url, "the SearXNG URL")) };
    }
    case "brave":
      return { provider, backend: braveBackend(base(BRAVE_BASE_URL), apiKey()) };
    case "tavily":
      return { provider, backend: tavilyBackend(base(TAVILY_BASE_URL), apiKey()) };
    case "exa":
      return { provider, backend: exaBackend(base(EXA_BASE_URL), apiKey()) };
  }
}
