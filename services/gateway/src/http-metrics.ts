import { type FusionMetrics, metrics } from "@fusion/runtime";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";

/**
 * The route a request was answered by, as registered (`/api/v1/chat/completions`, never a raw
 * path), so that label values stay few. Requests no handler matched are "unmatched".
 */
export function routeLabel(c: Context): string {
  const handlers = matchedRoutes(c).filter((r) => r.method !== "ALL");
  return handlers.at(-1)?.path ?? "unmatched";
}

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
