import { describe, expect, it } from "vitest";
import { describeSearchBackend, TEST_KEY } from "./backend-contract.ts";
import { braveBackend } from "./brave.ts";
import { readStatusOf } from "./read-status.test-kit.ts";

describeSearchBackend({
  provider: "brave",
  config: (baseUrl) => ({ searchProvider: "brave", searchApiKey: TEST_KEY, searchUrl: baseUrl }),
  path: "/res/v1/web/search",
  keyed: true,
  results: {
    fixture: "brave-results.json",
    // Brave's <strong> match markup and entities are turned into plain text.
    expected: [
      {
        title: "Brave Search API | Brave",
        url: "https://brave.com/search/api/",
        snippet:
          "Power your search and AI apps with the fastest growing independent search engine since Bing. Access an index of billions of pages with a single call & pay as you go.",
      },
      {
        title: "Brave Search - API Documentation",
        url: "https://api-dashboard.search.brave.com/app/documentation/web-search/get-started",
        snippet:
          "Brave Web Search API is a REST API to query Brave Search and get back search results from the web.",
      },
      {
        title: "brave/brave-search-mcp-server - GitHub",
        url: "https://github.com/brave/brave-search-mcp-server",
        snippet:
          "An MCP server implementation that integrates the Brave Search API, providing web, local, image, video and news search.",
      },
    ],
  },
  empty: "brave-empty.json",
  auth: [
    { status: 422, fixture: "brave-error-token-invalid.json" },
    { status: 401, fixture: "brave-error-token-invalid.json" },
  ],
  payment: [{ status: 429, fixture: "brave-error-quota-limited.json" }],
  rateLimited: { status: 429, fixture: "brave-error-rate-limited.json" },
  checkRequest(request, query, maxResults) {
    expect(request.method).toBe("GET");
    expect(request.headers["x-subscription-token"]).toBe(TEST_KEY);
    expect(request.headers.authorization).toBeUndefined();
    expect(request.headers.accept).toBe("application/json");
    expect([...request.query.keys()].sort()).toEqual(["count", "q"]);
    expect(request.query.get("q")).toBe(query);
    expect(request.query.get("count")).toBe(String(maxResults));
  },
});

describe("brave specifics", () => {
  const backend = braveBackend("https://api.search.brave.com", TEST_KEY);

  it("asks for at most 20 results, Brave's limit", () => {
    expect(backend.request("q", 25, "ua").url.searchParams.get("count")).toBe("20");
  });

  it("reads a bad key in the reference's `errors` list too", () => {
    const body = { type: "ErrorResponse", errors: [{ code: "SUBSCRIPTION_TOKEN_INVALID", status: 422 }] };
    expect(readStatusOf(backend, 422, body)).toBe("auth");
    expect(readStatusOf(backend, 422, { error: { code: "VALIDATION" } })).toBe("http_error");
  });

  it("tells an answer with nothing found from an answer of another shape", () => {
    expect(backend.parse({ type: "search", query: { original: "x" } }, 5)).toEqual([]);
    expect(() => backend.parse({ type: "ErrorResponse" }, 5)).toThrow(/no web\.results list/);
    expect(() => backend.parse([], 5)).toThrow(/no web\.results list/);
  });
});
