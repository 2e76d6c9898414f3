import type { UpstreamClient } from "@fusion/llm-client";
import { startScriptedUpstream } from "@fusion/llm-client/test-support";
import {
  completionBody,
  finishChunk,
  type OtlpReceiver,
  type ReceivedSpan,
  type ScriptedHandler,
  sendEvent,
  sendJson,
  startOtlpReceiver,
  startSse,
  textChunk,
  usageChunk,
} from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { setupTracing, shutdownTracing, withSpan } from "./tracing.ts";

/** The upstream client's spans: one per call, retries as events, failures and cancellations told apart. */

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url);
  vi.stubEnv("OTEL_BSP_SCHEDULE_DELAY", "20");
  await setupTracing("upstream-test");
});
afterAll(async () => {
  await shutdownTracing(2000);
  vi.unstubAllEnvs();
  await receiver?.close();
});

const CLIENT = 3;
const request = (model: string) => ({ model, messages: [{ role: "user", content: "hi" }] });

async function withServer<T>(
  handler: ScriptedHandler,
  run: (client: UpstreamClient) => Promise<T>,
): Promise<T> {
  const upstream = await startScriptedUpstream(handler, { apiKey: "sk-test" });
  try {
    return await run(upstream.client);
  } finally {
    await upstream.close();
  }
}

/** Runs `fn` below a parent span and returns the call spans below it, once exported. */
async function callSpans(count: number, fn: () => Promise<unknown>): Promise<ReceivedSpan[]> {
  let parent = "";
  await withSpan("parent", {}, async (span) => {
    parent = span?.spanContext().spanId ?? "";
    await fn().catch(() => {});
  });
  let spans: ReceivedSpan[] = [];
  await expect
    .poll(
      () => {
        spans = receiver.spans.filter((s) => s.parentSpanId === parent);
        return spans.length;
      },
      { timeout: 5000 },
    )
    .toBe(count);
  return spans;
}

describe("upstream call spans", () => {
  it("one span for a call that was retried, with the retry as an event and the usage", async () => {
    const model = "test/retried";
    const [span] = await withServer(
      (req, res) =>
        req.n === 1
          ? sendJson(res, 429, { error: { message: "slow down" } }, { "retry-after": "0" })
          : sendJson(res, 200, completionBody("ok", { model: "test/answering" })),
      (client) => callSpans(1, () => client.complete(request(model))),
    );
    expect(span).toMatchObject({
      name: `chat ${model}`,
      kind: CLIENT,
      statusCode: 0,
      attributes: {
        "gen_ai.request.model": model,
        "gen_ai.response.model": "test/answering",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.response.finish_reasons": ["stop"],
        "fusion.upstream.stream": false,
        "fusion.upstream.attempts": 2,
      },
    });
    expect(span?.events).toEqual([
      {
        name: "retry",
        attributes: expect.objectContaining({
          "fusion.upstream.attempt": 2,
          "error.type": "http",
          "http.response.status_code": 429,
        }),
      },
    ]);
  });

  it("a failed call is an error span with the kind and status; a cancelled one is not an error", async () => {
    const failed = await withServer(
      (_req, res) => sendJson(res, 400, { error: { message: "bad model" } }),
      (client) => callSpans(1, () => client.complete(request("test/bad"))),
    );
    expect(failed[0]).toMatchObject({
      statusCode: 2,
      attributes: { "error.type": "http", "http.response.status_code": 400, "fusion.upstream.attempts": 1 },
    });
    expect(failed[0]?.events.map((e) => e.name)).toEqual(["exception"]);

    const cancelled = await withServer(
      (_req, res) => sendJson(res, 200, completionBody("late")),
      (client) =>
        callSpans(1, () => client.complete(request("test/cancelled"), { signal: AbortSignal.abort() })),
    );
    expect(cancelled[0]).toMatchObject({
      statusCode: 0,
      attributes: { "error.type": "aborted", "fusion.cancelled": true },
    });
  });

  it("a streamed call's span has the usage of its last chunk, and ends when the reader stops early", async () => {
    const streamed = await withServer(
      (_req, res) => {
        startSse(res);
        sendEvent(res, textChunk("Hel"));
        sendEvent(res, textChunk("lo"));
        sendEvent(res, finishChunk("stop"));
        sendEvent(res, usageChunk(7, 2));
        sendEvent(res, "[DONE]");
        res.end();
      },
      (client) => callSpans(1, () => client.streamTurn(request("test/stream"))),
    );
    expect(streamed[0]).toMatchObject({
      name: "chat test/stream",
      statusCode: 0,
      attributes: {
        "fusion.upstream.stream": true,
        "gen_ai.response.model": "test/model",
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.response.finish_reasons": ["stop"],
      },
    });

    let closed: Promise<{ finished: boolean }> | undefined;
    const stopped = await withServer(
      (req, res) => {
        closed = req.closed;
        startSse(res);
        sendEvent(res, textChunk("first"));
        // ...and never more.
      },
      (client) =>
        callSpans(1, async () => {
          for await (const _chunk of client.stream(request("test/stopped"))) break;
        }),
    );
    expect(stopped[0]).toMatchObject({ name: "chat test/stopped", statusCode: 0 });
    // Stopping the read also ended the HTTP request.
    expect(await closed).toEqual({ finished: false });
  });
});
