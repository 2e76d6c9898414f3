import type { AddressInfo } from "node:net";
import { UpstreamError } from "@fusion/llm-client";
import { freePort, type RedisFixture, startRedis } from "@fusion/testing";
import { Queue, UnrecoverableError, WaitingChildrenError } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logger.ts";
import { createRedis } from "../redis/redis.ts";
import { createMetrics, type FusionMetrics, initMetrics, MAX_MODEL_LABELS } from "./fusion-metrics.ts";
import { metricsAuthorized, startMetricsServer } from "./metrics-server.ts";
import {
  instrumentProcessor,
  observeFusionFinished,
  recordJudgeResult,
  recordPanelResult,
  recordUpstreamError,
  recordWebSearchError,
} from "./recorders.ts";

const logger = createLogger("metrics-test", "silent");

/** The value of one series, or undefined when it does not exist. */
async function value(m: FusionMetrics, name: string, labels: Record<string, string> = {}) {
  const metric = m.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  // Counters and gauges only: a histogram's values hold its buckets too.
  const found = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return found?.value;
}

describe("metric helpers", () => {
  it("counts panel results by model and bounds the number of model labels", async () => {
    const m = createMetrics();
    const result = { model: "a/b", status: "ok" as const, content: "x" };
    expect(recordPanelResult(result, m)).toBe(result);
    recordPanelResult({ model: "a/b", status: "failed" }, m);
    recordPanelResult({ model: "a/b", status: "failed" }, m);
    expect(await value(m, "fusion_panel_results_total", { model: "a/b", outcome: "ok" })).toBe(1);
    expect(await value(m, "fusion_panel_results_total", { model: "a/b", outcome: "failed" })).toBe(2);

    for (let i = 0; i < MAX_MODEL_LABELS + 5; i++) recordPanelResult({ model: `m/${i}`, status: "ok" }, m);
    const { values } = await m.panelResults.get();
    expect(new Set(values.map((v) => v.labels.model)).size).toBe(MAX_MODEL_LABELS + 1);
    // The first models keep their names; the ones past the bound are "other".
    expect(await value(m, "fusion_panel_results_total", { model: "other", outcome: "ok" })).toBe(6);
  });

  it("classifies judge results", async () => {
    const m = createMetrics();
    const ok = { result: { status: "ok", analysis: {} } };
    expect(recordJudgeResult(ok, m)).toBe(ok);
    recordJudgeResult({ result: { status: "ok" } }, m);
    recordJudgeResult({ result: { status: "error", failure_reason: "all_panels_failed" } }, m);
    recordJudgeResult({ result: { status: "error", failure_reason: "cancelled" }, cancelled: true }, m);
    for (const outcome of ["ok", "no_analysis", "all_panels_failed", "cancelled"]) {
      expect(await value(m, "fusion_judge_results_total", { outcome })).toBe(1);
    }
  });

  it("counts upstream errors by kind and status, but not aborted calls", async () => {
    const m = createMetrics();
    recordUpstreamError(new UpstreamError("http", "x", { status: 429 }), m);
    recordUpstreamError(new UpstreamError("http", "x", { status: 429 }), m);
    recordUpstreamError(new UpstreamError("timeout", "x"), m);
    recordUpstreamError(new UpstreamError("aborted", "x"), m);
    expect(await value(m, "fusion_upstream_errors_total", { kind: "http", status: "429" })).toBe(2);
    expect(await value(m, "fusion_upstream_errors_total", { kind: "timeout", status: "none" })).toBe(1);
    expect(await value(m, "fusion_upstream_errors_total", { kind: "aborted" })).toBeUndefined();
  });

  it("counts failed web searches by provider and reason", async () => {
    const m = createMetrics();
    recordWebSearchError("brave", "auth", m);
    recordWebSearchError("brave", "auth", m);
    recordWebSearchError("tavily", "rate_limited", m);
    expect(await value(m, "fusion_web_search_errors_total", { provider: "brave", reason: "auth" })).toBe(2);
    expect(
      await value(m, "fusion_web_search_errors_total", { provider: "tavily", reason: "rate_limited" }),
    ).toBe(1);
    expect(await value(m, "fusion_web_search_errors_total", { provider: "brave", reason: "timeout" })).toBe(
      undefined,
    );
  });

  it("times processor runs by outcome and passes results and errors through", async () => {
    const m = createMetrics();
    const done = instrumentProcessor("panel", async () => "answer", m);
    const fails = instrumentProcessor(
      "panel",
      async () => {
        throw new UnrecoverableError("boom");
      },
      m,
    );
    const waits = instrumentProcessor(
      "turn",
      async () => {
        throw new WaitingChildrenError();
      },
      m,
    );
    expect(await done({} as never)).toBe("answer");
    await expect(fails({} as never)).rejects.toThrow("boom");
    await expect(waits({} as never)).rejects.toBeInstanceOf(WaitingChildrenError);
    const count = (labels: Record<string, string>) =>
      m.stageDuration
        .get()
        .then((r) =>
          r.values.find(
            (v) =>
              (v as { metricName?: string }).metricName === "fusion_stage_duration_seconds_count" &&
              Object.entries(labels).every(([k, x]) => v.labels[k as "stage"] === x),
          ),
        );
    expect((await count({ stage: "panel", outcome: "completed" }))?.value).toBe(1);
    expect((await count({ stage: "panel", outcome: "failed" }))?.value).toBe(1);
    expect((await count({ stage: "turn", outcome: "waiting" }))?.value).toBe(1);
  });

  it("observes a fusion's end-to-end time from the gateway's createdAt", async () => {
    const m = createMetrics();
    observeFusionFinished({ createdAt: 1_000, decision: { fusionCallId: "c" } }, 3_500, "completed", m);
    observeFusionFinished({ createdAt: 1_000 }, 1_250, "failed", m);
    observeFusionFinished({ other: true }, 5_000, "completed", m);
    const { values } = await m.endToEnd.get();
    const sum = (fused: string, outcome: string) =>
      values.find(
        (v) =>
          (v as { metricName?: string }).metricName === "fusion_end_to_end_duration_seconds_sum" &&
          v.labels.fused === fused &&
          v.labels.outcome === outcome,
      )?.value;
    expect(sum("true", "completed")).toBe(2.5);
    expect(sum("false", "failed")).toBe(0.25);
    const counts = values.filter((v) => (v as { metricName?: string }).metricName?.endsWith("_count"));
    expect(counts.map((v) => v.value)).toEqual([1, 1]);
  });

  it("checks the metrics token in constant time; no token means open", () => {
    expect(metricsAuthorized(undefined, undefined)).toBe(true);
    expect(metricsAuthorized("Bearer s3cret", "s3cret")).toBe(true);
    expect(metricsAuthorized("bearer  s3cret ", "s3cret")).toBe(true);
    expect(metricsAuthorized("Bearer s3cre", "s3cret")).toBe(false);
    expect(metricsAuthorized(undefined, "s3cret")).toBe(false);
    expect(metricsAuthorized("s3cret", "s3cret")).toBe(false);
  });
});

describe("the metrics server", () => {
  it("serves /metrics, /healthz and /readyz, and asks for the token only on /metrics", async () => {
    const m = createMetrics();
    initMetrics("test-service", m);
    let ready = false;
    const server = await startMetricsServer({
      port: await freePort(),
      host: "127.0.0.1",
      token: "tok",
      logger,
      ready: () => ready,
      metrics: m,
    });
    if (!server) throw new Error("the server did not start");
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      recordPanelResult({ model: "x/y", status: "ok" }, m);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const denied = await fetch(`${base}/metrics`);
      expect(denied.status).toBe(401);
      expect(denied.headers.get("www-authenticate")).toBe("Bearer");
      const res = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer tok" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const text = await res.text();
      expect(text).toContain('fusion_panel_results_total{model="x/y",outcome="ok",service="test-service"} 1');
      // Node's process metrics come along.
      expect(text).toMatch(/^process_cpu_user_seconds_total\{service="test-service"\} /m);
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
    } finally {
      server.close();
    }
  });

  it("is off on port 0, and a port in use leaves the process running without it", async () => {
    const m = createMetrics();
    expect(await startMetricsServer({ port: 0, host: "127.0.0.1", logger, metrics: m })).toBeUndefined();
    const first = await startMetricsServer({ port: await freePort(), host: "127.0.0.1", logger, metrics: m });
    if (!first) throw new Error("the server did not start");
    try {
      const port = (first.address() as AddressInfo).port;
      expect(await startMetricsServer({ port, host: "127.0.0.1", logger, metrics: m })).toBeUndefined();
    } finally {
      first.close();
    }
  });
});

describe("queue metrics", () => {
  let redis: RedisFixture;
  let conn: Redis;
  let queue: Queue;
  const prefix = `{metrics-${Math.random().toString(36).slice(2, 8)}}`;

  beforeAll(async () => {
    redis = await startRedis();
    conn = createRedis(redis.url, "producer", "metrics-test");
    queue = new Queue("panel", { connection: conn, prefix });
  });
  afterAll(async () => {
    await queue?.close();
    conn?.disconnect();
    await redis?.close();
  });

  it("reports job counts per queue and state on scrape, read at most once per cache period", async () => {
    const m = createMetrics();
    m.watchQueues([{ queue: "panel", shard: 0, source: queue }], { cacheMs: 2_000, logger });
    await queue.add("a", {});
    await queue.add("b", {}, { delay: 60_000 });
    expect(await value(m, "fusion_queue_jobs", { queue: "panel", shard: "0", state: "waiting" })).toBe(1);
    expect(await value(m, "fusion_queue_jobs", { queue: "panel", state: "delayed" })).toBe(1);
    expect(await value(m, "fusion_queue_jobs", { queue: "panel", state: "failed" })).toBe(0);
    expect(await value(m, "fusion_queue_workers", { queue: "panel" })).toBe(0);

    await queue.add("c", {});
    // Within the cache period the numbers are the ones read before.
    expect(await value(m, "fusion_queue_jobs", { queue: "panel", state: "waiting" })).toBe(1);
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await value(m, "fusion_queue_jobs", { queue: "panel", state: "waiting" })).toBe(2);
  });

  it("drops the series (rather than report stale numbers) when Redis cannot be read", async () => {
    const m = createMetrics();
    const broken = createRedis("redis://127.0.0.1:1", "producer", "metrics-broken");
    broken.on("error", () => {});
    const dead = new Queue("panel", { connection: broken, prefix });
    dead.on("error", () => {});
    try {
      m.watchQueues([{ queue: "panel", shard: 0, source: dead }], { cacheMs: 0, timeoutMs: 200, logger });
      recordPanelResult({ model: "x/y", status: "ok" }, m);
      const started = Date.now();
      const text = await m.registry.metrics();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(text).not.toMatch(/^fusion_queue_jobs\{/m);
      // Everything else is still reported.
      expect(text).toMatch(/^fusion_panel_results_total\{model="x\/y",outcome="ok"\} 1$/m);
    } finally {
      await dead.close().catch(() => {});
      broken.disconnect();
    }
  });
});
