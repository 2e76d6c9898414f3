import { type FusionMetrics, metrics } from "@fusion/runtime";
import type { MiddlewareHandler } from "hono";
import { routeLabel } from "./route-label.ts";

/** Counts and times every request: `fusion_http_requests_total`, `fusion_http_request_duration_seconds`. */
export function httpMetrics(m: FusionMetrics = metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const labels = { method: c.req.method, route: routeLabel(c), status: String(c.res.status) };
      m.httpRequests.inc(labels);
      m.httpDuration.observe(labels, (performance.now() - started) / 1000);
    }
  };
}
