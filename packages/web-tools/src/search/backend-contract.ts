import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WebToolsConfig } from "../config.ts";
import { createWebTools, type ToolExecution } from "../web-tools.ts";
import {
  fixture,
  type RecordedRequest,
  type ScriptedSearchServer,
  startScriptedSearchServer,
} from "./scripted-search-server.ts";
import type { HttpSearchProvider, SearchErrorReason, SearchResultItem } from "./search-backend.ts";

/** The key the keyed backends are configured with: it must never reach a message. */
export const TEST_KEY = "sk-test-9f8e7d6c5b4a-secret";

/** An error answer of the API: its status and the fixture of its body (none: a plain-text body). */
export interface ErrorAnswer {
  status: number;
  fixture?: string;
}

function errorBody(answer: ErrorAnswer): unknown {
  return answer.fixture === undefined ? "Too Many Requests" : fixture(answer.fixture);
}

/** What the shared tests need to know of one backend. */
export interface BackendSpec {
  provider: HttpSearchProvider;
  /** The web tools' settings for a provider served at `baseUrl`. */
  config(baseUrl: string): WebToolsConfig;
  /** The path a search request goes to, under the base URL's path. */
  path: string;
  /** Whether the backend sends `TEST_KEY` (keyed providers). */
  keyed: boolean;
  results: { fixture: string; expected: SearchResultItem[] };
  empty: string;
  /** Answers that say the key was refused. */
  auth: ErrorAnswer[];
  /** Answers that say the account is out of credits or quota. */
  payment: ErrorAnswer[];
  /** A 429 that is a rate limit (not a used-up quota). */
  rateLimited: ErrorAnswer;
  /** Asserts the request of a search for `query` with `maxResults` asked. */
  checkRequest(request: RecordedRequest, query: string, maxResults: number): void;
}

/** A path prefix of the base URL, to check that backends keep it (proxies). */
const PREFIX = "/api/v1";

/**
 * The tests every backend passes, against a local server answering with the API's own shapes: results,
 * empty results, the request sent, a refused key, no credits, a rate limit (retried once only when it
 * asks for a short wait), 5xx (retried once), a slow answer, a malformed body, and the key never in a
 * message the model reads.
 */
export function describeSearchBackend(spec: BackendSpec): void {
  describe(`${spec.provider} backend`, () => {
    let server: ScriptedSearchServer;
    const failures: Array<[string, SearchErrorReason]> = [];

    beforeAll(async () => {
      server = await startScriptedSearchServer();
    });
    afterAll(async () => {
      await server.close();
    });
    beforeEach(() => {
      server.reset();
      failures.length = 0;
    });

    function tools(extra: WebToolsConfig = {}) {
      return createWebTools({
        ...spec.config(`${server.origin}${PREFIX}`),
        onSearchError: (provider, reason) => failures.push([provider, reason]),
        ...extra,
      });
    }

    async function search(args: Record<string, unknown>, extra: WebToolsConfig = {}): Promise<ToolExecution> {
      return tools(extra).execute("web_search", JSON.stringify({ query: "fusion ü & co", ...args }));
    }

    function content(execution: ToolExecution): Record<string, unknown> {
      return JSON.parse(execution.content) as Record<string, unknown>;
    }

    /** A failed search: its message, with no trace of the key anywhere the model or a log could see. */
    function failure(execution: ToolExecution): string {
      expect(execution.ok).toBe(false);
      expect(execution.content).not.toContain(TEST_KEY);
      expect(execution.error ?? "").not.toContain(TEST_KEY);
      return String(content(execution).error);
    }

    it("is offered to the model and reports its provider", () => {
      const webTools = tools();
      expect(webTools.searchProvider).toBe(spec.provider);
      expect(webTools.isAvailable("web_search")).toBe(true);
      expect(webTools.definitions(["web_search"]).map((d) => d.function.name)).toEqual(["web_search"]);
      expect(webTools.serverTools(["web_search"])).toEqual([]);
    });

    it("returns the normalised results of the API's answer", async () => {
      server.reply({ body: fixture(spec.results.fixture) });
      const execution = await search({ max_results: 10 });
      expect(execution.ok).toBe(true);
      expect(content(execution)).toEqual({ query: "fusion ü & co", results: spec.results.expected });
      expect(execution.urls).toEqual(
        spec.results.expected.map((r) => (r.title ? { url: r.url, title: r.title } : { url: r.url })),
      );
      expect(failures).toEqual([]);
    });

    it("sends the request the API expects", async () => {
      server.reply({ body: fixture(spec.results.fixture) });
      await search({ max_results: 3 });
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests as [RecordedRequest];
      expect(request.path).toBe(`${PREFIX}${spec.path}`);
      expect(request.headers["user-agent"]).toMatch(/^FusionBot\//);
      spec.checkRequest(request, "fusion ü & co", 3);
    });

    it("returns at most max_results results", async () => {
      server.reply({ body: fixture(spec.results.fixture) });
      const results = content(await search({ max_results: 2 })).results;
      expect(results).toEqual(spec.results.expected.slice(0, 2));
    });

    it("returns an empty list when nothing matched", async () => {
      server.reply({ body: fixture(spec.empty) });
      const execution = await search({});
      expect(execution.ok).toBe(true);
      expect(content(execution)).toEqual({ query: "fusion ü & co", results: [] });
      expect(execution.urls).toEqual([]);
    });

    // (searxng takes no key and has no bill: it has neither test)
    if (spec.auth.length > 0)
      it.each(spec.auth)(
        "reports a refused key (HTTP $status, $fixture) and does not retry",
        async (answer) => {
          server.reply(
            { status: answer.status, body: errorBody(answer) },
            { body: fixture(spec.results.fixture) },
          );
          const message = failure(await search({}));
          expect(message).toBe(`web search provider rejected the server's key (HTTP ${answer.status})`);
          expect(server.requests).toHaveLength(1);
          expect(failures).toEqual([[spec.provider, "auth"]]);
        },
      );

    if (spec.payment.length > 0)
      it.each(spec.payment)(
        "reports used-up credits (HTTP $status, $fixture) and does not retry",
        async (answer) => {
          server.reply(
            { status: answer.status, body: errorBody(answer) },
            { body: fixture(spec.results.fixture) },
          );
          const message = failure(await search({}));
          expect(message).toBe(`web search provider is out of credits/quota (HTTP ${answer.status})`);
          expect(server.requests).toHaveLength(1);
          expect(failures).toEqual([[spec.provider, "payment"]]);
        },
      );

    it("reports a rate limit without retrying when it asks for no short wait", async () => {
      server.reply(
        { status: 429, body: errorBody(spec.rateLimited) },
        { body: fixture(spec.results.fixture) },
      );
      const message = failure(await search({}));
      expect(message).toBe("web search provider rate limited the server, try fewer searches (HTTP 429)");
      expect(server.requests).toHaveLength(1);
      expect(failures).toEqual([[spec.provider, "rate_limited"]]);
    });

    it("retries a rate limit once when it asks for a short wait", async () => {
      server.reply(
        { status: 429, headers: { "retry-after": "0" }, body: errorBody(spec.rateLimited) },
        { body: fixture(spec.results.fixture) },
      );
      const execution = await search({ max_results: 10 });
      expect(execution.ok).toBe(true);
      expect(content(execution).results).toEqual(spec.results.expected);
      expect(server.requests).toHaveLength(2);
      expect(failures).toEqual([]);
    });

    it("retries a 5xx once", async () => {
      server.reply({ status: 503, body: "unavailable" }, { body: fixture(spec.results.fixture) });
      const execution = await search({ max_results: 10 });
      expect(execution.ok).toBe(true);
      expect(content(execution).results).toEqual(spec.results.expected);
      expect(server.requests).toHaveLength(2);
    });

    it("reports a 5xx that persists after its retry", async () => {
      server.reply({ status: 500, body: "boom" }, { status: 502, body: "bad gateway" });
      expect(failure(await search({}))).toBe("web search provider returned HTTP 502");
      expect(server.requests).toHaveLength(2);
      expect(failures).toEqual([[spec.provider, "http_error"]]);
    });

    it("times out on a slow answer", async () => {
      server.reply({ delayMs: 5000, body: fixture(spec.results.fixture) });
      const message = failure(await search({}, { searchTimeoutMs: 200 }));
      expect(message).toBe("web_search timed out after 200 ms");
      expect(failures).toEqual([[spec.provider, "timeout"]]);
    });

    it("reports a body that is not JSON", async () => {
      server.reply({ body: "<html>Service Unavailable</html>", headers: { "content-type": "text/html" } });
      expect(failure(await search({}))).toBe("web search provider returned invalid JSON");
      expect(failures).toEqual([[spec.provider, "malformed"]]);
    });

    it("reports JSON without a results list", async () => {
      server.reply({ body: { message: "hello" } });
      expect(failure(await search({}))).toMatch(
        /^web search provider returned an unexpected answer \(no .*results list\)$/,
      );
      expect(failures).toEqual([[spec.provider, "malformed"]]);
    });

    it("reports another 4xx with the provider's reason, never the key", async () => {
      // The worst case: a provider that echoes the key in its error.
      const echoed = spec.keyed ? TEST_KEY : "(none)";
      server.reply({ status: 400, body: { error: `query rejected for key ${echoed}` } });
      const message = failure(await search({}));
      expect(message).toBe(
        `web search provider returned HTTP 400: query rejected for key ${spec.keyed ? "[redacted]" : "(none)"}`,
      );
      expect(failures).toEqual([[spec.provider, "http_error"]]);
    });
  });
}
