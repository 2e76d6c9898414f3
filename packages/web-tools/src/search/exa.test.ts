import { describe, expect, it } from "vitest";
import { describeSearchBackend, TEST_KEY } from "./backend-contract.ts";
import { exaBackend } from "./exa.ts";

describeSearchBackend({
  provider: "exa",
  config: (baseUrl) => ({ searchProvider: "exa", searchApiKey: TEST_KEY, searchUrl: baseUrl }),
  path: "/search",
  keyed: true,
  results: {
    fixture: "exa-results.json",
    // the snippet is the highlights, else the summary, else the text; a null title is ""
    expected: [
      {
        title: "A Comprehensive Overview of Large Language Models",
        url: "https://arxiv.org/abs/2307.06435",
        snippet:
          "Large Language Models (LLMs) have recently demonstrated remarkable capabilities in natural language processing tasks. … This article provides an overview of the existing literature on a broad range of LLM-related concepts.",
      },
      {
        title: "",
        url: "https://exa.ai/docs/reference/search",
        snippet: "The Exa search endpoint finds pages by meaning or keywords and can return their contents.",
      },
      {
        title: "exa-labs/exa-js: The Exa JavaScript SDK",
        url: "https://github.com/exa-labs/exa-js",
        snippet:
          "Exa (formerly Metaphor) is a search engine made for AIs. This is the official JavaScript SDK.",
      },
    ],
  },
  empty: "exa-empty.json",
  auth: [{ status: 401, fixture: "exa-error-unauthorized.json" }],
  payment: [{ status: 402, fixture: "exa-error-no-credits.json" }],
  rateLimited: { status: 429, fixture: "exa-error-rate-limited.json" },
  checkRequest(request, query, maxResults) {
    expect(request.method).toBe("POST");
    expect(request.headers["x-api-key"]).toBe(TEST_KEY);
    expect(request.headers.authorization).toBeUndefined();
    expect(request.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request.body)).toEqual({
      query,
      type: "auto",
      numResults: maxResults,
      contents: { highlights: { maxCharacters: 500 } },
    });
  },
});

describe("exa specifics", () => {
  it("skips empty highlights for the summary", () => {
    const backend = exaBackend("https://api.exa.ai", TEST_KEY);
    const results = backend.parse(
      { results: [{ title: "T", url: "https://t.example/", highlights: ["", "  "], summary: "S" }] },
      5,
    );
    expect(results).toEqual([{ title: "T", url: "https://t.example/", snippet: "S" }]);
  });
});
