import {
  finishChunk,
  type ScriptedHandler,
  sendEvent,
  sendJson,
  startSse,
  textChunk,
  usageChunk,
} from "@fusion/testing";
import type { ChatCompletionChunk } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { UpstreamError } from "./errors.ts";
import { useScriptedUpstream } from "./scripted-upstream.ts";

const apiKey = "sk-or-v1-STREAMSECRET0123456789";
const request = { model: "test/model", messages: [{ role: "user", content: "hi" }] };

const upstream = useScriptedUpstream({ apiKey });

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

/** Collects what was yielded before the stream failed, and the failure. */
async function collectUntilError(
  stream: AsyncIterable<ChatCompletionChunk>,
): Promise<{ chunks: ChatCompletionChunk[]; error: UpstreamError }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return { chunks, error: err as UpstreamError };
  }
  throw new Error("expected the stream to fail");
}

/** A stream handler that writes `lines` verbatim after the SSE head. */
function rawStream(...lines: string[]): ScriptedHandler {
  return (_req, res) => {
    startSse(res);
    for (const line of lines) res.write(line);
    res.end();
  };
}

describe("UpstreamClient.stream", () => {
  it("yields validated chunks, skips comments and stops at [DONE]", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      startSse(res);
      res.write(": OPENROUTER PROCESSING\n\n");
      sendEvent(res, {
        ...textChunk("Hel"),
        choices: [{ index: 0, delta: { role: "assistant", content: "Hel" } }],
      });
      res.write(": OPENROUTER PROCESSING\n\n");
      sendEvent(res, textChunk("lo"));
      sendEvent(res, finishChunk());
      sendEvent(res, usageChunk(3, 2));
      sendEvent(res, "[DONE]");
      res.end();
    });
    const chunks = await collect(client.stream({ ...request, stream_options: { foo: 1 } }));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? null)).toEqual(["Hel", "lo", null, null]);
    expect(chunks[3]?.usage?.total_tokens).toBe(5);
    expect(server.requests[0]?.json).toEqual({
      ...request,
      stream: true,
      stream_options: { foo: 1, include_usage: true },
    });
    expect(server.requests[0]?.headers.accept).toBe("text/event-stream");
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it("accepts a stream that ends with a finish_reason but without [DONE]", async () => {
    const { client } = await upstream.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("ok"));
      sendEvent(res, finishChunk());
      res.end();
    });
    expect(await collect(client.stream(request))).toHaveLength(2);
  });

  it("reuses the connection after a finished stream", async () => {
    const ports = new Set<number | undefined>();
    const { client } = await upstream.start((_req, res) => {
      ports.add(res.socket?.remotePort);
      startSse(res);
      sendEvent(res, textChunk("ok"));
      sendEvent(res, finishChunk());
      sendEvent(res, "[DONE]");
      res.end();
    });
    await collect(client.stream(request));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await collect(client.stream(request));
    expect(ports.size).toBe(1);
  });

  it("retries a 503 before the first chunk", async () => {
    const retries: number[] = [];
    const { server, client } = await upstream.start((req, res) => {
      if (req.n === 1) return sendJson(res, 503, { error: { code: 503, message: "no capacity" } });
      startSse(res);
      sendEvent(res, textChunk("second"));
      sendEvent(res, finishChunk());
      sendEvent(res, "[DONE]");
      res.end();
    });
    const chunks = await collect(client.stream(request, { onRetry: (info) => retries.push(info.attempt) }));
    expect(chunks[0]?.choices[0]?.delta?.content).toBe("second");
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([2]);
  });

  it("retries a retryable error chunk that comes before any content", async () => {
    const { server, client } = await upstream.start((req, res) => {
      startSse(res);
      if (req.n === 1) sendEvent(res, { error: { code: 429, message: "busy" }, choices: [] });
      else {
        sendEvent(res, textChunk("ok"));
        sendEvent(res, finishChunk());
        sendEvent(res, "[DONE]");
      }
      res.end();
    });
    expect(await collect(client.stream(request))).toHaveLength(2);
    expect(server.requests).toHaveLength(2);
  });

  it("does not retry once a chunk was yielded", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("partial"));
      setTimeout(() => res.destroy(), 20);
    });
    const { chunks, error } = await collectUntilError(client.stream(request));
    expect(chunks).toHaveLength(1);
    expect(error.kind).toBe("network");
    expect(server.requests).toHaveLength(1);
  });

  it("turns a mid-stream error chunk into a non-retryable http error", async () => {
    const { server, client } = await upstream.start(
      rawStream(
        `data: ${JSON.stringify(textChunk("Hi"))}\n\n`,
        `data: ${JSON.stringify({
          error: { code: 502, message: "Provider returned error" },
          choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }],
        })}\n\n`,
      ),
    );
    const { chunks, error } = await collectUntilError(client.stream(request));
    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ kind: "http", status: 502, retryable: false });
    expect(error.message).toBe("upstream stream error 502: Provider returned error (model test/model)");
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ["a garbage line", ["this is not sse\n\n"], "not server-sent events"],
    ["invalid JSON", ["data: {oops\n\n"], "invalid JSON"],
    ["an invalid chunk", [`data: ${JSON.stringify({ choices: "nope" })}\n\n`], "invalid chunk"],
    ["a truncated stream", [`data: ${JSON.stringify(textChunk("cut"))}\n\n`], "truncated"],
    ["an empty stream", [], "truncated"],
    [
      "a stream without choices",
      [`data: ${JSON.stringify(usageChunk(1, 0))}\n\n`, "data: [DONE]\n\n"],
      "no choices",
    ],
  ])("reports %s as a protocol error without retrying", async (_name, lines, text) => {
    const { server, client } = await upstream.start(rawStream(...lines));
    const { error } = await collectUntilError(client.stream(request));
    expect(error).toMatchObject({ kind: "protocol", retryable: false });
    expect(error.message).toContain(text);
    expect(error.message).toContain("(model test/model)");
    expect(server.requests).toHaveLength(1);
  });

  it("reports a non-SSE success response as a protocol error", async () => {
    const { client } = await upstream.start((_req, res) => sendJson(res, 200, { choices: [] }));
    const { error } = await collectUntilError(client.stream(request));
    expect(error.kind).toBe("protocol");
    expect(error.message).toContain('"application/json" instead of text/event-stream');
  });

  it("reports an HTTP error status with its body", async () => {
    const { server, client } = await upstream.start((_req, res) =>
      sendJson(res, 402, { error: { code: 402, message: "Insufficient credits" } }),
    );
    const { error } = await collectUntilError(client.stream(request));
    expect(error).toMatchObject({ kind: "http", status: 402, retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it("aborts the HTTP request when the consumer stops early", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("one"));
      const timer = setInterval(() => sendEvent(res, textChunk("more")), 10);
      res.on("close", () => clearInterval(timer));
    });
    for await (const chunk of client.stream(request)) {
      expect(chunk.choices[0]?.delta?.content).toBe("one");
      break;
    }
    const closed = await server.requests[0]?.closed;
    expect(closed?.finished).toBe(false);
  });

  it("aborts the HTTP request when the signal aborts mid-stream", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("one"));
    });
    const controller = new AbortController();
    const started = performance.now();
    const { chunks, error } = await collectUntilError(
      (async function* () {
        for await (const chunk of client.stream(request, { signal: controller.signal })) {
          setTimeout(() => controller.abort(), 20);
          yield chunk;
        }
      })(),
    );
    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ kind: "aborted", retryable: false });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect((await server.requests[0]?.closed)?.finished).toBe(false);
  });

  it("times out when the body is idle longer than bodyTimeoutMs", async () => {
    const { client } = await upstream.start(
      (_req, res) => {
        startSse(res);
        sendEvent(res, textChunk("one"));
      },
      { bodyTimeoutMs: 100 },
    );
    const { chunks, error } = await collectUntilError(client.stream(request));
    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ kind: "timeout" });
    expect(error.message).toBe("upstream response body was idle for more than 100 ms (model test/model)");
  });

  it("never puts the API key into a stream error", async () => {
    const { client } = await upstream.start(
      rawStream(`data: ${JSON.stringify({ error: { message: `bad ${apiKey}` } })}\n\n`),
    );
    const { error } = await collectUntilError(client.stream(request));
    expect(error.message).not.toContain(apiKey);
    expect(JSON.stringify(error.body)).not.toContain(apiKey);
  });
});

describe("UpstreamClient.streamTurn", () => {
  it("assembles text and tool-call fragments by index", async () => {
    const { client } = await upstream.start((_req, res) => {
      startSse(res);
      const delta = (d: Record<string, unknown>) => ({
        model: "test/model",
        choices: [{ index: 0, delta: d }],
      });
      sendEvent(res, delta({ role: "assistant", content: "Let me " }));
      sendEvent(res, delta({ content: "check." }));
      sendEvent(
        res,
        delta({
          tool_calls: [
            { index: 0, id: "call_a", type: "function", function: { name: "web_search", arguments: "" } },
          ],
        }),
      );
      sendEvent(res, delta({ tool_calls: [{ index: 0, function: { arguments: '{"query":' } }] }));
      sendEvent(
        res,
        delta({
          tool_calls: [
            { index: 1, id: "call_b", type: "function", function: { name: "fetch", arguments: '{"u' } },
          ],
        }),
      );
      sendEvent(res, delta({ tool_calls: [{ index: 0, function: { arguments: '"fusion"}' } }] }));
      sendEvent(res, delta({ tool_calls: [{ index: 1, function: { arguments: 'rl":"x"}' } }] }));
      sendEvent(res, {
        model: "test/model",
        choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }],
      });
      sendEvent(res, usageChunk(20, 7));
      sendEvent(res, "[DONE]");
      res.end();
    });
    const texts: string[] = [];
    const turn = await client.streamTurn(request, { onText: (text) => texts.push(text) });
    expect(texts).toEqual(["Let me ", "check."]);
    expect(turn).toEqual({
      model: "test/model",
      content: "Let me check.",
      toolCalls: [
        { id: "call_a", type: "function", function: { name: "web_search", arguments: '{"query":"fusion"}' } },
        { id: "call_b", type: "function", function: { name: "fetch", arguments: '{"url":"x"}' } },
      ],
      finishReason: "tool_calls",
      usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 },
    });
  });

  it("rejects with an UpstreamError when the stream is bad", async () => {
    const { client } = await upstream.start(rawStream("data: not json\n\n"));
    await expect(client.streamTurn(request)).rejects.toBeInstanceOf(UpstreamError);
  });

  it("aborts the request when onText throws", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("one"));
    });
    await expect(
      client.streamTurn(request, {
        onText: () => {
          throw new Error("consumer failed");
        },
      }),
    ).rejects.toThrow("consumer failed");
    expect((await server.requests[0]?.closed)?.finished).toBe(false);
  });
});
