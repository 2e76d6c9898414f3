import { initMetrics, metrics, metricsAuthorized } from "@fusion/runtime";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

/**
 * `GET /metrics`: Prometheus text format. Open unless METRICS_TOKEN is set (then it needs
 * `Authorization: Bearer <token>`); the API keys do not apply, as scrapers are not API clients.
 * Queue depths (every queue of every shard, labelled `queue` and `shard`) are read from Redis on
 * scrape, at most every two seconds.
 */
export function metricsRoute(deps: Pick<GatewayDeps, "env" | "logger" | "shards">) {
  initMetrics("gateway");
  const watched = deps.shards.flatMap((shard) =>
    Object.entries(shard.queues).map(([queue, source]) => ({ queue, shard: shard.index, source })),
  );
  metrics.watchQueues(watched, { cacheMs: 2000, logger: deps.logger });
  return factory.createApp().get("/metrics", async (c) => {
    if (!metricsAuthorized(c.req.header("authorization"), deps.env.METRICS_TOKEN)) {
      c.header("www-authenticate", "Bearer");
      return c.json({ error: { code: 401, message: "missing or invalid metrics token" } }, 401);
    }
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { "content-type": metrics.registry.contentType });
  });
}
