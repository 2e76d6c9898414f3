import { randomBytes } from "node:crypto";
import type { ServiceName } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { hasSeries, parsePromText, type Sample, sumOf } from "./support/prom-text.ts";

const metricsToken = `mt-${randomBytes(8).toString("hex")}`;
const e2e = useStack({ env: { METRICS_TOKEN: metricsToken } });

async function scrape(name: ServiceName): Promise<Sample[]> {
  const res = await fetch(e2e.stack.metricsUrl(name), {
    headers: { authorization: `Bearer ${metricsToken}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parsePromText(await res.text());
}

const workerBase = (name: ServiceName) => e2e.stack.metricsUrl(name).replace(/\/metrics$/, "");

describe("Prometheus metrics", () => {
  it("a fusion moves the counters of the gateway and of both workers", async () => {
    const judge = uniqueModel("judge");
    const good = uniqueModel("good");
    const bad = uniqueModel("bad");
    await e2e.control.script(bad, { alwaysFail: { status: 400, message: "bad model" } });
    const before = {
      gateway: await scrape("gateway"),
      panel: await scrape("panel-worker"),
      judge: await scrape("judge-worker"),
    };

    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "Compare two approaches." }],
      plugins: [{ id: "fusion", analysis_models: [good, bad], model: judge }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { fusion?: { status: string; failed_models?: string[] } };
    expect(body.fusion?.status).toBe("ok");
    expect(body.fusion?.failed_models).toEqual([bad]);

    const delta = (after: Sample[], prior: Sample[], name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(prior, name, labels);

    const gateway = await scrape("gateway");
    const chat = { route: "/api/v1/chat/completions", method: "POST", status: "200", service: "gateway" };
    expect(delta(gateway, before.gateway, "fusion_http_requests_total", chat)).toBe(1);
    expect(delta(gateway, before.gateway, "fusion_http_request_duration_seconds_count", chat)).toBe(1);
    // Every series carries the service, and Node's own metrics are there.
    expect(hasSeries(gateway, "process_resident_memory_bytes", { service: "gateway" })).toBe(true);

    const panel = await scrape("panel-worker");
    const results = "fusion_panel_results_total";
    expect(sumOf(panel, results, { model: good, outcome: "ok", service: "panel-worker" })).toBe(1);
    expect(sumOf(panel, results, { model: bad, outcome: "failed" })).toBe(1);
    expect(delta(panel, before.panel, "fusion_stage_duration_seconds_count", { stage: "panel" })).toBe(2);
    expect(
      delta(panel, before.panel, "fusion_upstream_errors_total", { kind: "http", status: "400" }),
    ).toBeGreaterThanOrEqual(1);

    const judged = await scrape("judge-worker");
    expect(delta(judged, before.judge, "fusion_judge_results_total", { outcome: "ok" })).toBe(1);
    expect(
      delta(judged, before.judge, "fusion_stage_duration_seconds_count", {
        stage: "judge",
        outcome: "completed",
      }),
    ).toBe(1);

    // The turn job completes just after the answer reached the client, and queue counts are cached
    // for two seconds: poll for those.
    await expect
      .poll(
        async () => {
          const now = await scrape("judge-worker");
          return [
            delta(now, before.judge, "fusion_stage_duration_seconds_count", {
              stage: "turn",
              outcome: "completed",
            }),
            delta(now, before.judge, "fusion_end_to_end_duration_seconds_count", {
              outcome: "completed",
              fused: "true",
            }),
          ];
        },
        { timeout: 10_000, interval: 200 },
      )
      .toEqual([1, 1]);
    await expect
      .poll(
        async () => {
          const now = await scrape("gateway");
          return {
            // Panel and judge jobs are removed once complete; the turn job is the record of a fusion.
            panelSeries: hasSeries(now, "fusion_queue_jobs", { queue: "panel", state: "waiting" }),
            turnCompleted: sumOf(now, "fusion_queue_jobs", { queue: "turn", state: "completed" }),
            panelWorkers: sumOf(now, "fusion_queue_workers", { queue: "panel" }),
            turnWorkers: sumOf(now, "fusion_queue_workers", { queue: "turn" }),
          };
        },
        { timeout: 10_000, interval: 300 },
      )
      .toEqual({ panelSeries: true, turnCompleted: 1, panelWorkers: 1, turnWorkers: 1 });
  });

  it("an upstream error on a proxied request is counted by status at the gateway", async () => {
    const model = uniqueModel("limited");
    await e2e.control.script(model, { alwaysFail: { status: 429, message: "slow down" } });
    const before = await scrape("gateway");
    const res = await e2e.post({ model, messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(429);
    const after = await scrape("gateway");
    const errors = { kind: "http", status: "429" };
    expect(sumOf(after, "fusion_upstream_errors_total", errors)).toBe(
      sumOf(before, "fusion_upstream_errors_total", errors) + 1,
    );
    const requests = { route: "/api/v1/chat/completions", status: "429" };
    expect(sumOf(after, "fusion_http_requests_total", requests)).toBe(
      sumOf(before, "fusion_http_requests_total", requests) + 1,
    );
  });

  it("/metrics needs the metrics token (not an API key); the health endpoints stay open", async () => {
    for (const name of ["gateway", "panel-worker", "judge-worker"] as const) {
      const url = e2e.stack.metricsUrl(name);
      expect((await fetch(url)).status, name).toBe(401);
      const withApiKey = await fetch(url, { headers: { authorization: `Bearer ${e2e.stack.apiKey}` } });
      expect(withApiKey.status, name).toBe(401);
    }
    expect((await fetch(`${e2e.stack.baseUrl}/healthz`)).status).toBe(200);
    for (const name of ["panel-worker", "judge-worker"] as const) {
      const health = await fetch(`${workerBase(name)}/healthz`);
      expect(health.status, name).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      expect((await fetch(`${workerBase(name)}/readyz`)).status, name).toBe(200);
    }
  });
});
