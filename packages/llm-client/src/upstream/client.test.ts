import { completionBody, freePort, sendJson } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import type { CallOptions, RetryInfo } from "./call-options.ts";
import { UpstreamClient } from "./client.ts";
import type { UpstreamClientOptions } from "./client-options.ts";
import { upstreamFailure as failure, useScriptedUpstream } from "./scripted-upstream.ts";

const apiKey = "sk-or-v1-TESTSECRETKEY0123456789";
const request = { model: "test/model", messages: [{ role: "user", content: "hi" }] };

const upstream = useScriptedUpstream({ apiKey });

describe("UpstreamClient.complete", () => {
  it("returns the validated completion, its turn and usage", async () => {
    const { client } = await upstream.start((_req, res) => sendJson(res, 200, completionBody("Hello!")));
    const { completion, turn } = await client.complete(request);
    expect(completion.choices[0]?.message.content).toBe("Hello!");
    expect(turn).toMatchObject({
      model: "test/model",
      content: "Hello!",
      finishReason: "stop",
      toolCalls: [],
    });
    expect(turn.usage).toMatchObject({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      cost: 0.001,
    });
  });

  it("sends the auth, static and per-call headers and forces stream:false", async () => {
    const { server, client } = await upstream.start((_req, res) => sendJson(res, 200, completionBody("ok")), {
      headers: { "HTTP-Referer": "https://fusion.test", "X-Title": "Fusion" },
    });
    await client.complete(
      { ...request, stream: true, stream_options: { include_usage: true } },
      { headers: { "x-openrouter-fusion-depth": "1" } },
    );
    const [req] = server.requests;
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/api/v1/chat/completions");
    expect(req?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(req?.headers["x-openrouter-fusion-depth"]).toBe("1");
    expect(req?.headers["http-referer"]).toBe("https://fusion.test");
    expect(req?.headers["x-title"]).toBe("Fusion");
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(req?.json).toEqual({ ...request, stream: false });
  });

  it("turns tool calls of a completion into the turn", async () => {
    const { client } = await upstream.start((_req, res) =>
      sendJson(res, 200, {
        model: "test/model",
        choices: [
          {
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "c1", type: "function", function: { name: "search", arguments: '{"q":"x"}' } },
              ],
            },
            finish_reason: "tool_calls",
          },
        ],
      }),
    );
    const { turn } = await client.complete(request);
    expect(turn.content).toBe("");
    expect(turn.finishReason).toBe("tool_calls");
    expect(turn.toolCalls).toEqual([
      { id: "c1", type: "function", function: { name: "search", arguments: '{"q":"x"}' } },
    ]);
    expect(turn.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it("retries a 429 and honours Retry-After", async () => {
    const retries: RetryInfo[] = [];
    const { server, client } = await upstream.start((req, res) => {
      if (req.n === 1)
        sendJson(res, 429, { error: { code: 429, message: "rate limited" } }, { "retry-after": "1" });
      else sendJson(res, 200, completionBody("after wait"));
    });
    const started = performance.now();
    const { turn } = await client.complete(request, { onRetry: (info) => retries.push(info) });
    const elapsed = performance.now() - started;
    expect(turn.content).toBe("after wait");
    expect(server.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.attempt).toBe(2);
    expect(retries[0]?.delayMs).toBe(1000);
    expect(retries[0]?.error).toMatchObject({
      kind: "http",
      status: 429,
      retryable: true,
      retryAfterMs: 1000,
    });
    expect(retries[0]?.error.message).toBe("upstream returned 429: rate limited (model test/model)");
  });

  it("caps a long Retry-After at retryMaxMs", async () => {
    const retries: RetryInfo[] = [];
    const { client } = await upstream.start(
      (req, res) => {
        if (req.n === 1) sendJson(res, 503, { error: { message: "overloaded" } }, { "retry-after": "3600" });
        else sendJson(res, 200, completionBody("ok"));
      },
      { retryMaxMs: 20 },
    );
    await client.complete(request, { onRetry: (info) => retries.push(info) });
    expect(retries.map((r) => r.delayMs)).toEqual([20]);
  });

  it("retries a 500 and then succeeds", async () => {
    const { server, client } = await upstream.start((req, res) => {
      if (req.n === 1) sendJson(res, 500, { error: { message: "boom" } });
      else sendJson(res, 200, completionBody("second time"));
    });
    const { turn } = await client.complete(request);
    expect(turn.content).toBe("second time");
    expect(server.requests).toHaveLength(2);
  });

  it.each([400, 401, 403, 404, 422])("does not retry a %i", async (status) => {
    const { server, client } = await upstream.start((_req, res) =>
      sendJson(res, status, { error: { code: status, message: "no good" } }),
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "http", status, retryable: false });
    expect(error.body).toEqual({ error: { code: status, message: "no good" } });
    expect(error.message).toBe(`upstream returned ${status}: no good (model test/model)`);
    expect(server.requests).toHaveLength(1);
  });

  it("gives up after maxRetries with the last status", async () => {
    const { server, client } = await upstream.start(
      (_req, res) => sendJson(res, 503, { error: { message: "down" } }),
      {
        maxRetries: 2,
      },
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "http", status: 503, retryable: true });
    expect(server.requests).toHaveLength(3);
  });

  it("quotes a non-JSON error body briefly", async () => {
    const { client } = await upstream.start(
      (_req, res) => {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html>  Bad\n gateway </html>");
      },
      { maxRetries: 0 },
    );
    const error = await failure(client.complete(request));
    expect(error.message).toBe("upstream returned 502: <html> Bad gateway </html> (model test/model)");
    expect(error.body).toBe("<html>  Bad\n gateway </html>");
  });

  it("reads at most 64 KiB of an error body", async () => {
    const { client } = await upstream.start((_req, res) => {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("x".repeat(1024 * 1024));
    });
    const error = await failure(client.complete(request));
    expect(typeof error.body === "string" && error.body.length).toBe(64 * 1024);
    expect(error.message.length).toBeLessThan(700);
  });

  it("reports a network error for a closed port", async () => {
    const port = await freePort();
    const client = upstream.closeAfterTest(
      new UpstreamClient({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0 }),
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "network", retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("retries network errors", async () => {
    const port = await freePort();
    const retries: RetryInfo[] = [];
    const client = upstream.closeAfterTest(
      new UpstreamClient({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        maxRetries: 2,
        retryBaseMs: 1,
      }),
    );
    await failure(client.complete(request, { onRetry: (info) => retries.push(info) }));
    expect(retries.map((r) => r.attempt)).toEqual([2, 3]);
  });

  it("times out when no headers arrive", async () => {
    const { client } = await upstream.start(() => {}, { headersTimeoutMs: 150, maxRetries: 0 });
    const started = performance.now();
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
    expect(error.message).toBe("upstream sent no response headers within 150 ms (model test/model)");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("times out when a body stalls", async () => {
    const { client } = await upstream.start(
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"choices":');
      },
      { bodyTimeoutMs: 150, maxRetries: 0 },
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
  });

  it("aborts an in-flight request at once", async () => {
    const { server, client } = await upstream.start(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const error = await failure(client.complete(request, { signal: controller.signal }));
    expect(error).toMatchObject({ kind: "aborted", retryable: false });
    expect(performance.now() - started).toBeLessThan(2_000);
    const closed = await server.requests[0]?.closed;
    expect(closed?.finished).toBe(false);
  });

  it("aborts during the backoff sleep at once", async () => {
    const { server, client } = await upstream.start(
      (_req, res) => sendJson(res, 429, { error: { message: "slow down" } }, { "retry-after": "10" }),
      { retryMaxMs: 10_000 },
    );
    const controller = new AbortController();
    const options: CallOptions = {
      signal: controller.signal,
      onRetry: () => setTimeout(() => controller.abort(), 30),
    };
    const started = performance.now();
    const error = await failure(client.complete(request, options));
    expect(error.kind).toBe("aborted");
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(1);
  });

  it("fails at once with a signal that is already aborted", async () => {
    const { server, client } = await upstream.start((_req, res) => sendJson(res, 200, completionBody("x")));
    const error = await failure(client.complete(request, { signal: AbortSignal.abort() }));
    expect(error.kind).toBe("aborted");
    expect(server.requests).toHaveLength(0);
  });

  it("rejects a completion without choices as a protocol error, without retrying", async () => {
    const { server, client } = await upstream.start((_req, res) =>
      sendJson(res, 200, { model: "m", choices: [] }),
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "protocol", retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it("rejects invalid JSON and invalid completions as protocol errors", async () => {
    const { client } = await upstream.start((req, res) => {
      if (req.n === 1) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{not json");
      } else sendJson(res, 200, { choices: "nope" });
    });
    expect(await failure(client.complete(request))).toMatchObject({ kind: "protocol" });
    const second = await failure(client.complete(request));
    expect(second.kind).toBe("protocol");
    expect(second.message).toContain("choices");
  });

  it("treats a 200 carrying only an error object as an HTTP error with its code", async () => {
    const { server, client } = await upstream.start((req, res) => {
      if (req.n === 1) sendJson(res, 200, { error: { code: 502, message: "Provider returned error" } });
      else sendJson(res, 200, completionBody("recovered"));
    });
    const { turn } = await client.complete(request);
    expect(turn.content).toBe("recovered");
    expect(server.requests).toHaveLength(2);
  });

  it("never puts the API key into an error", async () => {
    const { client } = await upstream.start((_req, res) =>
      sendJson(res, 401, { error: { code: 401, message: `Incorrect API key provided: ${apiKey}` } }),
    );
    const error = await failure(client.complete(request));
    expect(error.message).toBe(
      "upstream returned 401: Incorrect API key provided: [redacted] (model test/model)",
    );
    expect(JSON.stringify(error.body)).not.toContain(apiKey);
    expect(String(error.stack)).not.toContain(apiKey);
  });

  it("logs retries at warn without secrets", async () => {
    const lines: Array<{ obj: unknown; msg: string }> = [];
    const logger = {
      warn: (obj: unknown, msg: string) => lines.push({ obj, msg }),
    } as unknown as NonNullable<UpstreamClientOptions["logger"]>;
    const { client } = await upstream.start(
      (req, res) => {
        if (req.n === 1) sendJson(res, 500, { error: { message: `bad key ${apiKey}` } });
        else sendJson(res, 200, completionBody("ok"));
      },
      { logger },
    );
    await client.complete(request);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.obj).toMatchObject({ model: "test/model", status: 500, attempt: 2 });
    expect(JSON.stringify(lines)).not.toContain(apiKey);
    expect(JSON.stringify(lines)).not.toContain("messages");
  });
});

describe("UpstreamClient.proxy", () => {
  it("passes status, headers and the body through as a web stream", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      res.writeHead(201, { "content-type": "text/event-stream", "x-upstream": "yes" });
      res.write("data: one\n\n");
      setTimeout(() => res.end("data: two\n\n"), 20);
    });
    const raw = JSON.stringify({ model: "m", stream: true, custom: 1 });
    const response = await client.proxy("/chat/completions", raw, { headers: { "x-extra": "1" } });
    expect(response.status).toBe(201);
    expect(response.headers["x-upstream"]).toBe("yes");
    expect(response.headers["transfer-encoding"]).toBeUndefined();
    expect(await new Response(response.body).text()).toBe("data: one\n\ndata: two\n\n");
    expect(server.requests[0]?.body).toBe(raw);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(server.requests[0]?.headers["x-extra"]).toBe("1");
  });

  it("returns error statuses instead of throwing, and does not retry", async () => {
    const { server, client } = await upstream.start((_req, res) =>
      sendJson(res, 503, { error: { message: "down" } }),
    );
    const response = await client.proxy("/chat/completions", "{}");
    expect(response.status).toBe(503);
    expect(JSON.parse(await new Response(response.body).text())).toEqual({ error: { message: "down" } });
    expect(server.requests).toHaveLength(1);
  });

  it("aborts the upstream request when the body is cancelled", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n");
    });
    const response = await client.proxy("/chat/completions", "{}");
    const reader = response.body.getReader();
    await reader.read();
    await reader.cancel();
    const closed = await server.requests[0]?.closed;
    expect(closed?.finished).toBe(false);
  });

  it("throws a network error when nothing answers", async () => {
    const port = await freePort();
    const client = upstream.closeAfterTest(new UpstreamClient({ baseUrl: `http://127.0.0.1:${port}` }));
    expect(await failure(client.proxy("/chat/completions", "{}"))).toMatchObject({ kind: "network" });
  });
});
