import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * OpenTelemetry traces across the three services: a tiny OTLP/HTTP receiver stands in for the
 * collector, and one fusion must arrive as one trace, from the gateway's request span through
 * BullMQ's jobs to every panel call, the judge and the writer.
 */

let receiver: OtlpReceiver;
const env: Record<string, string> = {};
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // useStack reads its options when its own beforeAll runs, which is after this one.
  Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "200" });
});
afterAll(async () => {
  await receiver?.close();
});
const e2e = useStack({ env });

const SERVER = 2;
const CLIENT = 3;

/**
 * The spans of one trace, once those it must hold have arrived. `expected` maps a description to a
 * test of the trace's spans; a timeout names the ones still missing.
 */
async function completeTrace(
  traceId: () => string | undefined,
  expected: Record<string, (spans: ReceivedSpan[]) => boolean>,
  /** The parent of the trace's root: "" for a new trace, the caller's span for one continued. */
  rootParent = "",
): Promise<ReceivedSpan[]> {
  let spans: ReceivedSpan[] = [];
  // Each process exports its spans in its own batches, and a parent ends (and is exported) after its
  // children: a trace is complete only once every parent has arrived too.
  const parentsArrived = (all: ReceivedSpan[]) => orphansOf(all, rootParent).length === 0;
  await expect
    .poll(
      () => {
        const id = traceId();
        spans = id ? receiver.spans.filter((s) => s.traceId === id) : [];
        return Object.entries({ ...expected, "every span's parent": parentsArrived })
          .filter(([, ok]) => !ok(spans))
          .map(([what]) => what);
      },
      { timeout: 20_000, interval: 200 },
    )
    .toEqual([]);
  return spans;
}

const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
const services = (spans: ReceivedSpan[]) => [...new Set(spans.map((s) => s.service))].sort();

/** The spans whose parent is neither a span of the trace nor `rootParent`. */
function orphansOf(spans: ReceivedSpan[], rootParent: string): ReceivedSpan[] {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => s.parentSpanId !== rootParent && !ids.has(s.parentSpanId));
}

/** Every span's parent is a span of the same trace, and there is exactly one root. */
function expectConnected(spans: ReceivedSpan[]): ReceivedSpan {
  const roots = spans.filter((s) => s.parentSpanId === "");
  expect(roots.map((s) => s.name)).toHaveLength(1);
  expect(orphansOf(spans, "").map((s) => `${s.service}: ${s.name}`)).toEqual([]);
  return roots[0] as ReceivedSpan;
}

/** Whether `span` descends from `ancestor` within the trace. */
function descendsFrom(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId)) {
    if (s.spanId === ancestor.spanId) return true;
  }
  return false;
}

describe("OpenTelemetry traces", () => {
  it("follow a fusion from the gateway through the queue to every panel call, the judge and the writer", async () => {
    const [a, b, judge] = [uniqueModel("panel-a"), uniqueModel("panel-b"), uniqueModel("judge")];
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "Compare two approaches." }],
      plugins: [{ id: "fusion", analysis_models: [a, b], model: judge }],
    });
    expect(res.status).toBe(200);
    const fusionId = res.headers.get("x-fusion-id") ?? "";
    expect(fusionId).not.toBe("");
    await res.json();

    const gatewaySpan = () =>
      receiver.spans.find((s) => s.service === "gateway" && s.attributes["fusion.id"] === fusionId);
    const spans = await completeTrace(() => gatewaySpan()?.traceId, {
      "spans of all three services": (all) => services(all).length === 3,
      "the writer": (all) => named(all, `writer ${judge}`).length === 1,
      "the judge": (all) => named(all, `judge ${judge}`).length === 1,
      "panelist a's calls": (all) => named(all, `chat ${a}`).length >= 2,
      "panelist b's calls": (all) => named(all, `chat ${b}`).length >= 2,
    });
    expect(services(spans)).toEqual(["gateway", "judge-worker", "panel-worker"]);

    // The root is the gateway's request span.
    const root = expectConnected(spans);
    expect(root).toMatchObject({
      service: "gateway",
      name: "POST /api/v1/chat/completions",
      kind: SERVER,
      attributes: {
        "http.request.method": "POST",
        "http.route": "/api/v1/chat/completions",
        "http.response.status_code": 200,
        "fusion.id": fusionId,
        "fusion.entry": "alias",
      },
    });
    // Health probes (the stack polled /readyz until it was up) are not traced.
    expect(receiver.spans.filter((s) => s.attributes["url.path"] === "/readyz")).toEqual([]);
    const enqueue = named(spans, "fusion enqueue")[0];
    expect(enqueue?.service).toBe("gateway");

    // Each panelist: its job span in the panel worker, below the enqueue (through BullMQ's spans),
    // with its upstream calls (a tool step, then the answer) and its web_search below it.
    for (const model of [a, b]) {
      const [job] = named(spans, `panel ${model}`);
      expect(job).toMatchObject({ service: "panel-worker", attributes: { "fusion.id": fusionId } });
      expect(job?.attributes["fusion.outcome"]).toBe("ok");
      expect(descendsFrom(spans, job as ReceivedSpan, enqueue as ReceivedSpan)).toBe(true);
      const calls = named(spans, `chat ${model}`);
      for (const call of calls) {
        expect(call).toMatchObject({
          service: "panel-worker",
          kind: CLIENT,
          attributes: { "gen_ai.request.model": model, "fusion.upstream.attempts": 1 },
        });
        expect(call.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
        expect(call.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
        expect(call.parentSpanId).toBe(job?.spanId);
      }
      const tools = spans.filter(
        (s) => s.name === "execute_tool web_search" && s.parentSpanId === job?.spanId,
      );
      expect(tools.length).toBeGreaterThanOrEqual(1);
      expect(tools[0]?.attributes["fusion.tool.ok"]).toBe(true);
    }

    // The judge and the writer in the judge worker, with the judge model's own upstream calls.
    const [judgeJob] = named(spans, `judge ${judge}`);
    expect(judgeJob).toMatchObject({ service: "judge-worker", attributes: { "fusion.outcome": "ok" } });
    const [writer] = named(spans, `writer ${judge}`);
    expect(writer).toMatchObject({ service: "judge-worker", attributes: { "fusion.id": fusionId } });
    for (const job of [judgeJob, writer]) {
      expect(descendsFrom(spans, job as ReceivedSpan, enqueue as ReceivedSpan)).toBe(true);
      const calls = named(spans, `chat ${judge}`).filter((s) => s.parentSpanId === job?.spanId);
      expect(calls.length, job?.name).toBeGreaterThanOrEqual(1);
    }
    // BullMQ's own spans carry the jobs between the processes.
    expect(spans.some((s) => s.service === "gateway" && s.name.startsWith("addFlow"))).toBe(true);
    expect(spans.filter((s) => s.name === "process panel").length).toBe(2);
  });

  it("continue the caller's trace, and follow a fusion the model decided on (judge flow added by the worker)", async () => {
    const writer = uniqueModel("writer");
    const [a, b] = [uniqueModel("panel-a"), uniqueModel("panel-b")];
    await e2e.control.script(writer, { fusion: "call" });
    const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpanId = "00f067aa0ba902b7";
    // The judge defaults to the calling model: the writer's own calls are those below its turn's spans.
    const writerCalls = (all: ReceivedSpan[]) => {
      const turns = new Set(named(all, `writer ${writer}`).map((s) => s.spanId));
      return named(all, `chat ${writer}`).filter((s) => turns.has(s.parentSpanId));
    };
    const res = await e2e.post(
      {
        model: writer,
        stream: true,
        messages: [{ role: "user", content: "Should we adopt it?" }],
        plugins: [{ id: "fusion", analysis_models: [a, b] }],
      },
      { headers: { traceparent: `00-${callerTraceId}-${callerSpanId}-01` } },
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("data: [DONE]");

    const spans = await completeTrace(
      () => callerTraceId,
      {
        "spans of all three services": (all) => services(all).length === 3,
        "both runs of the writer's turn": (all) => named(all, `writer ${writer}`).length === 2,
        "the writer's calls": (all) => writerCalls(all).length === 2,
        "panelist a's calls": (all) => named(all, `chat ${a}`).length >= 2,
        "panelist b's calls": (all) => named(all, `chat ${b}`).length >= 2,
      },
      callerSpanId,
    );
    // The gateway's span is the child of the caller's; nothing else is a root.
    const request = spans.find((s) => s.kind === SERVER && s.service === "gateway");
    expect(request?.parentSpanId).toBe(callerSpanId);
    expect(request?.attributes["fusion.entry"]).toBe("plugin");
    expect(orphansOf(spans, callerSpanId)).toEqual([]);
    // The writer's turn runs twice: it decides (and hands off to the panel), then writes.
    const turns = named(spans, `writer ${writer}`).map((s) => s.attributes["fusion.outcome"]);
    expect(turns.sort()).toEqual(["completed", "waiting"]);
    // The writer streams: its calls are streamed calls, with the usage of their last chunk.
    for (const call of writerCalls(spans)) {
      expect(call.attributes["fusion.upstream.stream"]).toBe(true);
      expect(call.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
      expect(call.attributes["gen_ai.response.finish_reasons"]).toHaveLength(1);
    }
    for (const model of [a, b]) {
      const [job] = named(spans, `panel ${model}`);
      expect(job?.service).toBe("panel-worker");
      expect(named(spans, `chat ${model}`).every((s) => s.parentSpanId === job?.spanId)).toBe(true);
    }
    expect(named(spans, `judge ${writer}`)).toHaveLength(1);
  });
});
