import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-server.ts";
import { parseSearxngResults, searchUrl } from "./search/searxng.ts";
import { createWebTools, type ToolExecution } from "./web-tools.ts";

function parse(execution: ToolExecution): Record<string, unknown> {
  return JSON.parse(execution.content) as Record<string, unknown>;
}

const RESULTS = [
  { title: "No URL", content: "skipped" },
  { title: "FTP", url: "ftp://files.example/", content: "skipped" },
  ...Array.from({ length: 30 }, (_, i) => ({
    title: `Result ${i}`,
    url: `https://site${i}.example/page`,
    content: `  snippet   ${i} ${"long ".repeat(i === 0 ? 200 : 1)} `,
    engine: "fake",
  })),
];

let searx: TestServer;
const queries: URLSearchParams[] = [];

beforeAll(async () => {
  searx = await startTestServer({
    "/search": (req, res) => {
      const params = new URL(req.url ?? "/", "http://x").searchParams;
      queries.push(params);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ query: params.get("q"), results: RESULTS, answers: [] }));
    },
    "/broken/search": (_req, res) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("boom");
    },
    "/garbage/search": (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("<html>not json</html>");
    },
    "/slow/search": (_req, res) => {
      const timer = setTimeout(() => res.end("{}"), 3000);
      res.on("close", () => clearTimeout(timer));
    },
  });
});

afterAll(async () => {
  await searx.close();
});

describe("web_search", () => {
  it("queries SearXNG's JSON API and returns the default number of results", async () => {
    const tools = createWebTools({ searxngUrl: searx.origin });
    const result = await tools.execute("web_search", JSON.stringify({ query: "fusion ü & co" }));
    expect(result.ok).toBe(true);
    const params = queries.at(-1);
    expect(params?.get("q")).toBe("fusion ü & co");
    expect(params?.get("format")).toBe("json");
    const content = parse(result);
    expect(content.query).toBe("fusion ü & co");
    const results = content.results as Array<{ title: string; url: string; snippet: string }>;
    expect(results).toHaveLength(5);
    expect(results[0]?.url).toBe("https://site0.example/page");
    expect(results[0]?.snippet.length).toBeLessThanOrEqual(500);
    expect(results[1]).toEqual({
      title: "Result 1",
      url: "https://site1.example/page",
      snippet: "snippet 1 long",
    });
    expect(result.urls).toEqual(results.map((r) => ({ url: r.url, title: r.title })));
  });

  it("honours max_results and its bounds", async () => {
    const tools = createWebTools({ searxngUrl: `${searx.origin}/`, defaultSearchResults: 2 });
    const count = async (args: Record<string, unknown>) =>
      (parse(await tools.execute("web_search", JSON.stringify({ query: "q", ...args }))).results as unknown[])
        .length;
    expect(await count({})).toBe(2);
    expect(await count({ max_results: 3 })).toBe(3);
    expect(await count({ max_results: 100 })).toBe(25);
    expect(await count({ max_results: 0 })).toBe(1);
  });

  it("says so when no backend is configured", async () => {
    const result = await createWebTools({}).execute("web_search", '{"query":"x"}');
    expect(result.ok).toBe(false);
    expect(parse(result)).toEqual({
      error:
        "web_search is not available: no search backend is configured on this server (WEB_SEARCH_PROVIDER, SEARXNG_URL)",
    });
  });

  it("says so when OpenRouter runs the search and the model calls the function anyway", async () => {
    const result = await createWebTools({ searchProvider: "openrouter" }).execute(
      "web_search",
      '{"query":"x"}',
    );
    expect(result.ok).toBe(false);
    expect(parse(result)).toEqual({
      error:
        "web_search is not available as a function on this server: the model's provider (OpenRouter) runs web search itself",
    });
  });

  it("reports a failing backend", async () => {
    const result = await createWebTools({ searxngUrl: `${searx.origin}/broken` }).execute(
      "web_search",
      '{"query":"x"}',
    );
    expect(result.ok).toBe(false);
    expect(parse(result)).toEqual({ error: "web search provider returned HTTP 500" });
    // a 5xx is tried once more, then reported
    expect(searx.requests.filter((path) => path === "/broken/search")).toHaveLength(2);
  });

  it("reports invalid JSON from the backend", async () => {
    const result = await createWebTools({ searxngUrl: `${searx.origin}/garbage` }).execute(
      "web_search",
      '{"query":"x"}',
    );
    expect(parse(result)).toEqual({ error: "web search provider returned invalid JSON" });
  });

  it("times out", async () => {
    const result = await createWebTools({ searxngUrl: `${searx.origin}/slow`, searchTimeoutMs: 200 }).execute(
      "web_search",
      '{"query":"x"}',
    );
    expect(parse(result)).toEqual({ error: "web_search timed out after 200 ms" });
  });

  it("reports an unreachable backend", async () => {
    const gone = await startTestServer({});
    await gone.close();
    const result = await createWebTools({ searxngUrl: gone.origin }).execute("web_search", '{"query":"x"}');
    expect(result.ok).toBe(false);
    expect(String(parse(result).error)).toMatch(/^web search provider unreachable: .*ECONNREFUSED/);
  });

  it("requires a query", async () => {
    const result = await createWebTools({ searxngUrl: searx.origin }).execute(
      "web_search",
      '{"max_results":2}',
    );
    expect(parse(result)).toEqual({ error: "invalid arguments: query is required (a non-empty string)" });
  });
});

describe("searchUrl", () => {
  it("keeps a path prefix of the base URL", () => {
    expect(searchUrl("http://searx:8080", "a b").href).toBe("http://searx:8080/search?q=a+b&format=json");
    expect(searchUrl("http://host/searx/", "x").href).toBe("http://host/searx/search?q=x&format=json");
  });
});

describe("parseSearxngResults", () => {
  it("rejects an answer without a results list", () => {
    expect(() => parseSearxngResults({ error: "x" }, 5)).toThrow(/unexpected answer/);
  });
});
