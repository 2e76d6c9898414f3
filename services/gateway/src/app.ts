import type { Upstream } from "@fusion/llm-client";
import type { EventRelay, Logger, RedisClient } from "@fusion/runtime";
import { errorBody, FusionError } from "@fusion/wire";
import type { FlowProducer, Queue } from "bullmq";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ADMIN_BASE, adminRoutes } from "./admin.ts";
import { bearerAuth } from "./auth.ts";
import type { GatewayEnv } from "./env.ts";
import { httpMetrics } from "./http-metrics.ts";
import { httpTracing } from "./http-tracing.ts";
import { type FusionSlot, type KeyLimits, keyLimitsFromEnv, keyLimitsMiddleware } from "./rate-limit.ts";
import type { Readers } from "./readers.ts";
import { chatCompletionsRoute } from "./routes/chat-completions.ts";
import { fusionsRoute } from "./routes/fusions.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { modelsRoute } from "./routes/models.ts";

export interface GatewayDeps {
  env: GatewayEnv;
  logger: Logger;
  redis: RedisClient;
  relay: EventRelay;
  flows: FlowProducer;
  queues: { turn: Queue; panel: Queue; judge: Queue };
  upstream: Upstream;
  readers: Readers;
}

export type AppEnv = {
  Variables: { keyId: string; requestId: string; keyLimits?: KeyLimits; fusionSlot?: FusionSlot };
};

export function createApp(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", httpTracing());
  app.use("*", httpMetrics());
  app.use("*", async (c, next) => {
    const requestId = c.req.header("x-request-id") || crypto.randomUUID();
    c.set("requestId", requestId);
    c.header("x-request-id", requestId);
    await next();
  });

  app.route("/", healthRoutes(deps));
  app.route("/", metricsRoutes(deps));
  // Bull Board behind ADMIN_API_KEY; without the key, nothing is mounted and /admin/* is 404.
  if (deps.env.ADMIN_API_KEY) {
    const { ADMIN_API_KEY: key, ADMIN_QUEUES_READ_ONLY: readOnly } = deps.env;
    app.route(ADMIN_BASE, adminRoutes({ key, queues: deps.queues, readOnly }));
  }

  const keyLimits = keyLimitsFromEnv(deps);
  for (const base of ["/api/v1", "/v1"]) {
    const api = new Hono<AppEnv>();
    api.use("*", bearerAuth(deps.env.GATEWAY_API_KEYS));
    api.use("*", keyLimitsMiddleware(keyLimits, deps.logger));
    api.use(
      "*",
      bodyLimit({
        maxSize: deps.env.BODY_LIMIT_BYTES,
        onError: () => {
          throw new FusionError(
            "payload_too_large",
            `request body exceeds ${deps.env.BODY_LIMIT_BYTES} bytes`,
          );
        },
      }),
    );
    api.route("/", chatCompletionsRoute(deps));
    api.route("/", modelsRoute(deps));
    api.route("/", fusionsRoute(deps));
    app.route(base, api);
  }

  app.notFound((c) => c.json(errorBody(404, `no route for ${c.req.method} ${c.req.path}`), 404));

  app.onError((err, c) => {
    if (err instanceof FusionError) {
      if (err.status >= 500) deps.logger.error({ err, requestId: c.get("requestId") }, err.message);
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
      return c.json(err.toBody(), err.status as 400);
    }
    deps.logger.error({ err, requestId: c.get("requestId") }, "unhandled error");
    return c.json(errorBody(500, "internal error"), 500);
  });

  return app;
}
