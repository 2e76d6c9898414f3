import { describe, expect, it } from "vitest";
import { createWebToolsFromEnv, type WebToolsEnv } from "../from-env.ts";
import { createWebTools } from "../web-tools.ts";
import { SearchConfigError, type SearchEnv, searchOptionsFromEnv } from "./search-from-env.ts";

const OPENROUTER = "https://openrouter.ai/api/v1";
const VLLM = "http://vllm:8000/v1";
const KEY = "sk-env-key-123456";

function env(search: SearchEnv): WebToolsEnv {
  return {
    WEB_FETCH_ALLOW_HOSTS: [],
    WEB_FETCH_TIMEOUT_MS: 15_000,
    WEB_FETCH_MAX_CHARS: 20_000,
    WEB_TOOL_CONCURRENCY: 16,
    MAX_TOOL_CALLS_PER_TURN: 8,
    ...search,
  };
}

/** The provider the web tools of `search` run web_search on. */
function providerOf(search: SearchEnv) {
  return createWebToolsFromEnv(env(search)).searchProvider;
}

function problemOf(search: SearchEnv): string {
  try {
    searchOptionsFromEnv(search);
  } catch (error) {
    expect(error).toBeInstanceOf(SearchConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a configuration error");
}

describe("the default provider", () => {
  it("is SearXNG when SEARXNG_URL is set, whatever the upstream", () => {
    expect(providerOf({ SEARXNG_URL: "http://searxng:8080", UPSTREAM_BASE_URL: OPENROUTER })).toBe("searxng");
    expect(providerOf({ SEARXNG_URL: "http://searxng:8080", UPSTREAM_BASE_URL: VLLM })).toBe("searxng");
  });

  it("is OpenRouter's own search when the upstream is OpenRouter (its host or its dialect)", () => {
    expect(providerOf({ UPSTREAM_BASE_URL: OPENROUTER })).toBe("openrouter");
    expect(
      providerOf({ UPSTREAM_BASE_URL: "http://127.0.0.1:9999/v1", UPSTREAM_DIALECT: "openrouter" }),
    ).toBe("openrouter");
  });

  it("is none otherwise: web_search is not offered", () => {
    expect(providerOf({ UPSTREAM_BASE_URL: VLLM })).toBeUndefined();
    expect(
      providerOf({ UPSTREAM_BASE_URL: OPENROUTER, UPSTREAM_DIALECT: "openai-compatible" }),
    ).toBeUndefined();
    expect(providerOf({})).toBeUndefined();
    const tools = createWebToolsFromEnv(env({ UPSTREAM_BASE_URL: VLLM }));
    expect(tools.definitions(["web_search", "web_fetch"]).map((d) => d.function.name)).toEqual(["web_fetch"]);
  });
});

describe("WEB_SEARCH_PROVIDER", () => {
  it("chooses a keyed provider, with its key and base URL, over SEARXNG_URL", () => {
    expect(
      searchOptionsFromEnv({
        WEB_SEARCH_PROVIDER: "brave",
        WEB_SEARCH_API_KEY: ` ${KEY} `,
        WEB_SEARCH_URL: "http://proxy:8080/brave",
        SEARXNG_URL: "http://searxng:8080",
      }),
    ).toEqual({
      searchProvider: "brave",
      searchApiKey: KEY,
      searchUrl: "http://proxy:8080/brave",
      searxngUrl: "http://searxng:8080",
    });
    for (const provider of ["brave", "tavily", "exa"] as const) {
      expect(
        providerOf({ WEB_SEARCH_PROVIDER: provider, WEB_SEARCH_API_KEY: KEY, SEARXNG_URL: "http://s:1" }),
      ).toBe(provider);
    }
  });

  it("none turns web search off even when SearXNG or OpenRouter could run it", () => {
    expect(
      providerOf({
        WEB_SEARCH_PROVIDER: "none",
        SEARXNG_URL: "http://searxng:8080",
        UPSTREAM_BASE_URL: OPENROUTER,
      }),
    ).toBeUndefined();
  });

  it("searxng may take its URL from WEB_SEARCH_URL", () => {
    expect(
      searchOptionsFromEnv({ WEB_SEARCH_PROVIDER: "searxng", WEB_SEARCH_URL: "http://searx.internal" }),
    ).toEqual({ searchProvider: "searxng", searchUrl: "http://searx.internal" });
  });

  it("openrouter with an OpenRouter upstream runs as a server tool", () => {
    const tools = createWebToolsFromEnv(
      env({ WEB_SEARCH_PROVIDER: "openrouter", UPSTREAM_BASE_URL: OPENROUTER }),
    );
    expect(tools.searchProvider).toBe("openrouter");
    expect(tools.serverTools(["web_search"])).toEqual([
      { type: "openrouter:web_search", parameters: { max_results: 5 } },
    ]);
  });
});

describe("settings that cannot work stop the start, naming the variable", () => {
  it.each(["brave", "tavily", "exa"] as const)("%s without WEB_SEARCH_API_KEY", (provider) => {
    expect(problemOf({ WEB_SEARCH_PROVIDER: provider, WEB_SEARCH_API_KEY: "  " })).toBe(
      `invalid configuration:\n  WEB_SEARCH_API_KEY: WEB_SEARCH_PROVIDER=${provider} needs its API key`,
    );
  });

  it("a key without a provider to use it", () => {
    expect(problemOf({ WEB_SEARCH_API_KEY: KEY, SEARXNG_URL: "http://searxng:8080" })).toBe(
      "invalid configuration:\n  WEB_SEARCH_PROVIDER: WEB_SEARCH_API_KEY is set; name its provider (brave, tavily or exa)",
    );
  });

  it("WEB_SEARCH_URL without a provider to use it", () => {
    expect(problemOf({ WEB_SEARCH_URL: "http://proxy:8080" })).toMatch(
      /WEB_SEARCH_PROVIDER: WEB_SEARCH_URL is set/,
    );
  });

  it("openrouter with another upstream, naming its host only", () => {
    expect(
      problemOf({ WEB_SEARCH_PROVIDER: "openrouter", UPSTREAM_BASE_URL: "http://user:pw@vllm:8000/v1" }),
    ).toBe(
      "invalid configuration:\n  WEB_SEARCH_PROVIDER: openrouter needs OpenRouter as the upstream (UPSTREAM_BASE_URL is vllm:8000)",
    );
  });

  it("searxng without a URL", () => {
    expect(problemOf({ WEB_SEARCH_PROVIDER: "searxng" })).toMatch(
      /SEARXNG_URL: WEB_SEARCH_PROVIDER=searxng needs/,
    );
  });

  it("a URL that is not http(s), and every problem at once", () => {
    expect(
      problemOf({
        WEB_SEARCH_PROVIDER: "exa",
        WEB_SEARCH_URL: "localhost:8080",
        SEARXNG_URL: "ftp://searx",
      }),
    ).toBe(
      [
        "invalid configuration:",
        "  WEB_SEARCH_URL: must be an http(s) URL",
        "  SEARXNG_URL: must be an http(s) URL",
        "  WEB_SEARCH_API_KEY: WEB_SEARCH_PROVIDER=exa needs its API key",
      ].join("\n"),
    );
  });

  it("an unknown provider", () => {
    expect(problemOf({ WEB_SEARCH_PROVIDER: "google" as SearchEnv["WEB_SEARCH_PROVIDER"] })).toMatch(
      /WEB_SEARCH_PROVIDER: must be one of searxng, brave, tavily, exa, openrouter, none/,
    );
  });

  it("never shows the key", () => {
    const message = problemOf({
      WEB_SEARCH_API_KEY: KEY,
      WEB_SEARCH_PROVIDER: "openrouter",
      UPSTREAM_BASE_URL: VLLM,
    });
    expect(message).not.toContain(KEY);
  });
});

describe("createWebTools", () => {
  it("refuses a search setup that cannot work", () => {
    expect(() => createWebTools({ searchProvider: "tavily" })).toThrow(
      "web search provider tavily needs an API key",
    );
    expect(() => createWebTools({ searchProvider: "searxng" })).toThrow(/needs the SearXNG URL/);
    expect(() =>
      createWebTools({ searchProvider: "exa", searchApiKey: KEY, searchUrl: "file:///etc" }),
    ).toThrow("the search URL is not an http(s) URL");
    expect(() => createWebTools({ searxngUrl: "not a url" })).toThrow("the SearXNG URL is not a valid URL");
  });

  it("needs nothing for openrouter or no search", () => {
    expect(createWebTools({ searchProvider: "openrouter" }).searchProvider).toBe("openrouter");
    expect(createWebTools({}).searchProvider).toBeUndefined();
  });
});
