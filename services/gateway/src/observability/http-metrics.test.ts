import { createMetrics } from "@fusion/runtime";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { httpMetrics } from "./http-metrics.ts";

describe("HTTP metrics middleware", () => {
  it("labels requests by registered route, method and status, not by raw path", async () => {
    const m = createMetrics();
    const app = new Hono();
    app.use("*", httpMetrics(m));
    const api = new Hono();
    api.use("*", async (c, next) => {
      if (c.req.header("authorization") !== "Bearer k") return c.json({ error: "no" }, 401);
      return next();
    });
    api.get("/things/:id", (c) => c.json({ id: c.req.param("id") }));
    api.post("/boom", () => {
      throw new Error("boom");
    });
    app.route("/api/v1", api);
    app.onError((_err, c) => c.json({ error: "internal" }, 500));

    const auth = { authorization: "Bearer k" };
    expect((await app.request("/api/v1/things/1", { headers: auth })).status).toBe(200);
    expect((await app.request("/api/v1/things/2", { headers: auth })).status).toBe(200);
    expect((await app.request("/api/v1/things/3")).status).toBe(401);
    expect((await app.request("/api/v1/boom", { method: "POST", headers: auth })).status).toBe(500);
    expect((await app.request("/nowhere/42")).status).toBe(404);

    const { values } = await m.httpRequests.get();
    const series = values.map((v) => `${v.labels.method} ${v.labels.route} ${v.labels.status} ${v.value}`);
    expect(series.sort()).toEqual([
      "GET /api/v1/things/:id 200 2",
      "GET /api/v1/things/:id 401 1",
      "GET unmatched 404 1",
      "POST /api/v1/boom 500 1",
    ]);
    const durations = await m.httpDuration.get();
    const count = durations.values.find(
      (v) =>
        (v as { metricName?: string }).metricName === "fusion_http_request_duration_seconds_count" &&
        v.labels.route === "/api/v1/things/:id" &&
        v.labels.status === "200",
    );
    expect(count?.value).toBe(2);
  });
});
