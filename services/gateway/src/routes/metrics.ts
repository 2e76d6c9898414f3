import { initMetrics, metrics, metricsAuthorized } from "@fusion/runtime";
import { Hono } from "hono";
import type { AppEnv, GatewayDeps } from "../app.ts";

/**
 * `GET /metrics`: Prometheus text format. Open unless METRICS_TOKEN is set (then it needs
 * `Authorization: Bearer <token>`); the API keys do not apply, as scrapers are not API clients.
 * Queue depths are read from Redis on scrape, at most every two seconds.
 */
export function metricsRoutes(deps: GatewayDeps): Hono<AppEnv> {
  initMetrics("gateway");
  metrics.watchQueues(deps.queues, { cacheMs: 2000, logger: deps.logger });
  const app = new Hono<AppEnv>();
  app.get("/metrics", async (c) => {
    if (!metricsAuthorized(c.req.header("authorization"), deps.env.METRICS_TOKEN)) {
      c.header("www-authenticate", "Bearer");
      return c.json({ error: { code: 401, message: "missing or invalid metrics token" } }, 401);
    }
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { "content-type": metrics.registry.contentType });
  });
  return app;
}
