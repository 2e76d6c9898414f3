import { describe, expect, it } from "vitest";
import { describeSearchBackend, TEST_KEY } from "./backend-contract.ts";
import { readStatusOf } from "./read-status.test-kit.ts";
import { tavilyBackend } from "./tavily.ts";

describeSearchBackend({
  provider: "tavily",
  config: (baseUrl) => ({ searchProvider: "tavily", searchApiKey: TEST_KEY, searchUrl: baseUrl }),
  path: "/search",
  keyed: true,
  results: {
    fixture: "tavily-results.json",
    expected: [
      {
        title: "Tavily",
        url: "https://tavily.com/",
        snippet:
          "Connect Your LLM to the Web Empowering your AI applications with real-time, accurate search results tailored for LLMs and RAG.",
      },
      {
        title: "Tavily Search API - Tavily Docs",
        url: "https://docs.tavily.com/documentation/api-reference/endpoint/search",
        snippet:
          "Execute a search query using Tavily Search. Returns the most relevant results, each with a title, URL, content and score.",
      },
      {
        title: "tavily-ai/tavily-python: Python wrapper for the Tavily API",
        url: "https://github.com/tavily-ai/tavily-python",
        snippet: "The Tavily Python wrapper allows for easy interaction with the Tavily API.",
      },
    ],
  },
  empty: "tavily-empty.json",
  auth: [{ status: 401, fixture: "tavily-error-unauthorized.json" }],
  payment: [
    { status: 432, fixture: "tavily-error-plan-limit.json" },
    { status: 433, fixture: "tavily-error-plan-limit.json" },
  ],
  rateLimited: { status: 429, fixture: "tavily-error-rate-limited.json" },
  checkRequest(request, query, maxResults) {
    expect(request.method).toBe("POST");
    expect(request.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(request.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request.body)).toEqual({
      query,
      max_results: maxResults,
      search_depth: "basic",
      include_answer: false,
      include_raw_content: false,
      include_images: false,
    });
    // the key goes in the header only, never in the body
    expect(request.body).not.toContain(TEST_KEY);
  },
});

describe("tavily specifics", () => {
  const backend = tavilyBackend("https://api.tavily.com", TEST_KEY);

  it("asks for at most 20 results, Tavily's limit", () => {
    expect(JSON.parse(backend.request("q", 25, "ua").body ?? "{}")).toMatchObject({ max_results: 20 });
  });

  it("reads 432 and 433 as a used-up plan, 403 as a refused key", () => {
    expect(readStatusOf(backend, 432, undefined)).toBe("payment");
    expect(readStatusOf(backend, 433, undefined)).toBe("payment");
    expect(readStatusOf(backend, 403, undefined)).toBe("auth");
  });
});
