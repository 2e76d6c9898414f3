import { markFailed, tracer, tracingEnabled } from "@fusion/llm-client";
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { routeLabel } from "./route-label.ts";

/** Probes and scrapes, asked every few seconds: not traced. */
const untraced = new Set(["/healthz", "/readyz", "/metrics"]);

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * The request span of every gateway request (`POST /api/v1/chat/completions`, kind server): method,
 * route as registered, status, and for a fusion its id (`fusion.id`) and entry point, which the route
 * adds. A `traceparent` header from the caller makes it a child of the caller's trace. The span ends
 * when the response headers are sent (a streamed answer: when the stream began); the fusion's own
 * spans (queue, panel, judge, writer) continue the trace. Health probes and metric scrapes are not
 * traced. With tracing off, this does nothing.
 */
export function httpTracing(): MiddlewareHandler<{ Variables: { requestId: string } }> {
  if (!tracingEnabled()) return (_c, next) => next();
  return async (c, next) => {
    if (untraced.has(c.req.path)) return next();
    const method = c.req.method;
    const parent = propagation.extract(ROOT_CONTEXT, c.req.raw.headers, headerGetter);
    const span = tracer().startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": method,
          "url.path": c.req.path,
          "url.scheme": new URL(c.req.url).protocol.replace(/:$/, ""),
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      const route = routeLabel(c);
      const status = c.res.status;
      span.updateName(route === "unmatched" ? method : `${method} ${route}`);
      span.setAttribute("http.response.status_code", status);
      if (route !== "unmatched") span.setAttribute("http.route", route);
      const fusionId = c.res.headers.get("x-fusion-id");
      if (fusionId) span.setAttribute("fusion.id", fusionId);
      const requestId = c.get("requestId");
      if (requestId) span.setAttribute("fusion.request_id", requestId);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
