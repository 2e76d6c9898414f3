import { describe, expect, it } from "vitest";
import { describeSearchBackend } from "./backend-contract.ts";
import { parseSearxngResults, searchUrl } from "./searxng.ts";

describeSearchBackend({
  provider: "searxng",
  config: (baseUrl) => ({ searxngUrl: baseUrl }),
  path: "/search",
  keyed: false,
  results: {
    fixture: "searxng-results.json",
    expected: [
      {
        title: "Welcome to SearXNG — SearXNG Documentation",
        url: "https://docs.searxng.org/",
        snippet:
          "SearXNG is a free internet metasearch engine which aggregates results from up to 243 search services.",
      },
      {
        title: "searxng/searxng: SearXNG is a free internet metasearch engine",
        url: "https://github.com/searxng/searxng",
        snippet:
          "SearXNG is a free internet metasearch engine which aggregates results from various search services and databases.",
      },
      {
        title: "SearXNG - Wikipedia",
        url: "https://en.wikipedia.org/wiki/SearXNG",
        snippet: "SearXNG is a fork of the metasearch engine searx.",
      },
    ],
  },
  empty: "searxng-empty.json",
  auth: [],
  payment: [],
  rateLimited: { status: 429 },
  checkRequest(request, query) {
    expect(request.method).toBe("GET");
    expect([...request.query.keys()].sort()).toEqual(["format", "q"]);
    expect(request.query.get("q")).toBe(query);
    expect(request.query.get("format")).toBe("json");
    expect(request.headers.accept).toBe("application/json");
  },
});

describe("searxng specifics", () => {
  it("keeps a path prefix of the base URL", () => {
    expect(searchUrl("http://searx:8080", "a b").href).toBe("http://searx:8080/search?q=a+b&format=json");
    expect(searchUrl("http://host/searx/", "x").href).toBe("http://host/searx/search?q=x&format=json");
  });

  it("skips results without an http(s) URL and repeats", () => {
    const results = parseSearxngResults(
      {
        results: [
          { title: "No URL", content: "x" },
          { title: "FTP", url: "ftp://files.example/", content: "x" },
          "not an object",
          { title: "A", url: "https://a.example/", content: "  spaced \n out  " },
          { title: "A again", url: "https://a.example/", content: "repeat" },
        ],
      },
      5,
    );
    expect(results).toEqual([{ title: "A", url: "https://a.example/", snippet: "spaced out" }]);
  });
});
