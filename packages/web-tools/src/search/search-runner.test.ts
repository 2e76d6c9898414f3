import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TEST_KEY } from "./backend-contract.ts";
import { braveBackend } from "./brave.ts";
import { fixture, type ScriptedSearchServer, startScriptedSearchServer } from "./scripted-search-server.ts";
import type { SearchErrorReason } from "./search-backend.ts";
import { SearchFailure } from "./search-failure.ts";
import { MAX_SEARCH_BODY, runSearch, type SearchRunOptions } from "./search-runner.ts";
import { searxngBackend } from "./searxng.ts";

let server: ScriptedSearchServer;
const failures: SearchErrorReason[] = [];
const options: SearchRunOptions = {
  timeoutMs: 2000,
  userAgent: "FusionBot/test",
  onSearchError: (_provider, reason) => failures.push(reason),
};

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

async function failureOf(promise: Promise<unknown>): Promise<SearchFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SearchFailure);
  return error as SearchFailure;
}

describe("runSearch", () => {
  it("retries once after the connection was cut", async () => {
    server.reply({ reset: true }, { body: fixture("searxng-results.json") });
    const results = await runSearch(searxngBackend(server.origin), "q", 5, options);
    expect(results).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
    expect(failures).toEqual([]);
  });

  it("reports a connection cut twice as unreachable", async () => {
    server.reply({ reset: true }, { reset: true });
    const failure = await failureOf(runSearch(searxngBackend(server.origin), "q", 5, options));
    expect(failure.reason).toBe("unreachable");
    expect(failure.message).toMatch(/^web search provider unreachable: /);
    expect(server.requests).toHaveLength(2);
    expect(failures).toEqual(["unreachable"]);
  });

  it("does not retry a 429 that asks for a long wait", async () => {
    server.reply(
      { status: 429, headers: { "retry-after": "30" }, body: fixture("brave-error-rate-limited.json") },
      { body: fixture("brave-results.json") },
    );
    const failure = await failureOf(runSearch(braveBackend(server.origin, TEST_KEY), "q", 5, options));
    expect(failure).toMatchObject({ reason: "rate_limited", status: 429, provider: "brave" });
    expect(server.requests).toHaveLength(1);
  });

  it("retries a 429 whose Retry-After is an HTTP date a moment away", async () => {
    const soon = new Date(Date.now() + 100).toUTCString();
    server.reply(
      { status: 429, headers: { "retry-after": soon }, body: fixture("brave-error-rate-limited.json") },
      { body: fixture("brave-results.json") },
    );
    const results = await runSearch(braveBackend(server.origin, TEST_KEY), "q", 5, options);
    expect(results).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
  });

  it("does not retry when the time limit leaves no room for the wait", async () => {
    server.reply(
      { status: 429, headers: { "retry-after": "1" }, body: fixture("brave-error-rate-limited.json") },
      { body: fixture("brave-results.json") },
    );
    const failure = await failureOf(
      runSearch(braveBackend(server.origin, TEST_KEY), "q", 5, { ...options, timeoutMs: 900 }),
    );
    expect(failure.message).toBe(
      "web search provider rate limited the server, try fewer searches (HTTP 429)",
    );
    expect(server.requests).toHaveLength(1);
  });

  it("retries a 429 that asks for a wait of a second when the time limit leaves room", async () => {
    server.reply(
      { status: 429, headers: { "retry-after": "1" }, body: fixture("brave-error-rate-limited.json") },
      { body: fixture("brave-results.json") },
    );
    expect(await runSearch(braveBackend(server.origin, TEST_KEY), "q", 5, options)).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
  });

  it("refuses an answer larger than the size limit", async () => {
    const big = JSON.stringify({
      results: [{ url: "https://a.example/", content: "x".repeat(MAX_SEARCH_BODY) }],
    });
    server.reply({ body: big });
    const failure = await failureOf(runSearch(searxngBackend(server.origin), "q", 5, options));
    expect(failure.reason).toBe("malformed");
    expect(failure.message).toBe(`web search provider's answer is larger than ${MAX_SEARCH_BODY} bytes`);
  });

  it("reads a gzip-encoded answer", async () => {
    server.reply({
      headers: { "content-encoding": "gzip" },
      body: gzipSync(JSON.stringify(fixture("searxng-results.json"))),
    });
    const results = await runSearch(searxngBackend(server.origin), "q", 2, options);
    expect(results.map((r) => r.url)).toEqual([
      "https://docs.searxng.org/",
      "https://github.com/searxng/searxng",
    ]);
  });

  it("rejects with the caller's reason when the caller cancels, and reports nothing", async () => {
    server.reply({ delayMs: 5000, body: fixture("searxng-results.json") });
    const controller = new AbortController();
    const reason = new Error("caller went away");
    setTimeout(() => controller.abort(reason), 50);
    await expect(
      runSearch(searxngBackend(server.origin), "q", 5, { ...options, signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(failures).toEqual([]);
  });

  it("tells the model the same when the error hook throws", async () => {
    server.reply({ status: 401, body: fixture("brave-error-token-invalid.json") });
    const failure = await failureOf(
      runSearch(braveBackend(server.origin, TEST_KEY), "q", 5, {
        ...options,
        onSearchError: () => {
          throw new Error("metrics down");
        },
      }),
    );
    expect(failure.message).toBe("web search provider rejected the server's key (HTTP 401)");
  });

  it("keeps the key out of an unreachable provider's message and cause", async () => {
    const gone = await startScriptedSearchServer();
    await gone.close();
    const failure = await failureOf(runSearch(braveBackend(gone.origin, TEST_KEY), "q", 5, options));
    expect(failure.reason).toBe("unreachable");
    expect(failure.message).toMatch(/ECONNREFUSED/);
    expect(`${failure.message} ${String(failure.cause)} ${JSON.stringify(failure)}`).not.toContain(TEST_KEY);
  });
});
