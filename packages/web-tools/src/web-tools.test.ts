import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-server.ts";
import { createWebTools } from "./web-tools.ts";

let server: TestServer;

let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = await startTestServer({
    "/page": (_req, res) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("a page");
      }, 100);
    },
    "/slow": (_req, res) => {
      const timer = setTimeout(() => res.end("late"), 5000);
      res.on("close", () => clearTimeout(timer));
    },
  });
});

afterAll(async () => {
  await server.close();
});

describe("definitions", () => {
  it("gives OpenAI function tools in the order asked, without duplicates", () => {
    const tools = createWebTools({ searxngUrl: "http://searx" });
    const definitions = tools.definitions(["web_fetch", "web_search", "web_fetch"]);
    expect(definitions.map((d) => d.function.name)).toEqual(["web_fetch", "web_search"]);
    for (const definition of definitions) {
      expect(definition.type).toBe("function");
      expect(definition.function.description.length).toBeGreaterThan(20);
      expect(definition.function.parameters).toMatchObject({ type: "object", additionalProperties: false });
    }
    expect(definitions[0]?.function.parameters).toMatchObject({ required: ["url"] });
    expect(definitions[1]?.function.parameters).toMatchObject({
      required: ["query"],
      properties: { max_results: { type: "integer", minimum: 1, maximum: 25 } },
    });
    expect(tools.definitions([])).toEqual([]);
  });

  it("tells whether a tool can work here", () => {
    expect(createWebTools({}).isAvailable("web_search")).toBe(false);
    expect(createWebTools({}).isAvailable("web_fetch")).toBe(true);
    expect(createWebTools({ searxngUrl: "http://searx" }).isAvailable("web_search")).toBe(true);
    expect(createWebTools({ searchProvider: "brave", searchApiKey: "k" }).isAvailable("web_search")).toBe(
      true,
    );
    // OpenRouter runs the search inside its own call: there is no function to run here
    expect(createWebTools({ searchProvider: "openrouter" }).isAvailable("web_search")).toBe(false);
  });

  it("leaves web_search out when no search API runs it here", () => {
    for (const tools of [createWebTools({}), createWebTools({ searchProvider: "openrouter" })]) {
      expect(tools.definitions(["web_search", "web_fetch"]).map((d) => d.function.name)).toEqual([
        "web_fetch",
      ]);
      expect(tools.definitions(["web_search"])).toEqual([]);
    }
  });

  it("offers OpenRouter's web search server tool when the provider is openrouter and web_search is asked for", () => {
    const tools = createWebTools({ searchProvider: "openrouter", defaultSearchResults: 7 });
    expect(tools.searchProvider).toBe("openrouter");
    expect(tools.serverTools(["web_fetch", "web_search"])).toEqual([
      { type: "openrouter:web_search", parameters: { max_results: 7 } },
    ]);
    expect(tools.serverTools(["web_fetch"])).toEqual([]);
    expect(createWebTools({ searxngUrl: "http://searx" }).serverTools(["web_search"])).toEqual([]);
    expect(createWebTools({}).serverTools(["web_search"])).toEqual([]);
  });
});

describe("execute", () => {
  const tools = createWebTools({ allowHosts: [] });

  it.each([
    ["{not json", /^invalid arguments: /],
    ["[1,2]", /^invalid arguments: expected a JSON object$/],
    ["null", /^invalid arguments: expected a JSON object$/],
    ["", /^invalid arguments: url is required/],
    ['{"url": 42}', /^invalid arguments: url is required/],
    [
      '{"url": "https://example.com", "max_content_tokens": "many"}',
      /^invalid arguments: max_content_tokens/,
    ],
    ['{"url": "https://example.com", "max_content_tokens": 0}', /^invalid arguments: max_content_tokens/],
  ])("answers bad arguments %s with an error", async (json, pattern) => {
    const result = await tools.execute("web_fetch", json);
    expect(result.ok).toBe(false);
    expect(result.name).toBe("web_fetch");
    const content = JSON.parse(result.content) as { error: string };
    expect(content.error).toMatch(pattern);
    expect(result.error).toBe(content.error);
  });

  it("answers an unknown tool with the list of tools", async () => {
    const result = await tools.execute("python", "{}");
    expect(result).toEqual({
      name: "python",
      ok: false,
      content: JSON.stringify({ error: "unknown tool python; available: web_search, web_fetch" }),
      urls: [],
      error: "unknown tool python; available: web_search, web_fetch",
    });
  });

  it("rejects with the abort reason when the signal aborts during a fetch", async () => {
    const local = createWebTools({ allowHosts: [`127.0.0.1:${server.port}`] });
    const controller = new AbortController();
    const reason = new Error("caller went away");
    setTimeout(() => controller.abort(reason), 50);
    const started = Date.now();
    await expect(
      local.execute("web_fetch", JSON.stringify({ url: `${server.origin}/slow` }), controller.signal),
    ).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("already"));
    await expect(tools.execute("web_fetch", "{bad", controller.signal)).rejects.toThrow("already");
  });

  it("rejects with the abort reason during a search", async () => {
    const slow = await startTestServer({
      "/search": (_req, res) => {
        const timer = setTimeout(() => res.end("{}"), 5000);
        res.on("close", () => clearTimeout(timer));
      },
    });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("stop searching")), 50);
      await expect(
        createWebTools({ searxngUrl: slow.origin }).execute("web_search", '{"query":"q"}', controller.signal),
      ).rejects.toThrow("stop searching");
    } finally {
      await slow.close();
    }
  });

  it("rejects with the abort reason while DNS is pending", async () => {
    const hanging = createWebTools({ lookup: () => new Promise(() => {}) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("dns too slow")), 50);
    await expect(
      hanging.execute("web_fetch", '{"url":"https://slow-dns.example/"}', controller.signal),
    ).rejects.toThrow("dns too slow");
  });
});

describe("limits", () => {
  it("runs at most `concurrency` calls of this process at once; the others wait for a slot", async () => {
    const tools = createWebTools({ allowHosts: [`127.0.0.1:${server.port}`], concurrency: 2 });
    const args = JSON.stringify({ url: `${server.origin}/page` });
    const results = await Promise.all(Array.from({ length: 6 }, () => tools.execute("web_fetch", args)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(maxInFlight).toBe(2);
  });

  it("a call waiting for a slot ends with its signal", async () => {
    const tools = createWebTools({ allowHosts: [`127.0.0.1:${server.port}`], concurrency: 1 });
    const busy = tools.execute("web_fetch", JSON.stringify({ url: `${server.origin}/page` }));
    const controller = new AbortController();
    const waiting = tools.execute(
      "web_fetch",
      JSON.stringify({ url: `${server.origin}/page` }),
      controller.signal,
    );
    controller.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
    expect((await busy).ok).toBe(true);
  });

  it("tells the tool loop how many calls of one turn run: 8 unless set", () => {
    expect(createWebTools({}).maxCallsPerTurn).toBe(8);
    expect(createWebTools({ maxCallsPerTurn: 3 }).maxCallsPerTurn).toBe(3);
  });
});
