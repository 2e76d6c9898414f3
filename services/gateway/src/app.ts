import { labDistDir } from "@fusion/lab";
import type { KeyLimits } from "@fusion/runtime";
import type { Hono } from "hono";
import { requestId } from "hono/request-id";
import { ADMIN_BASE } from "./admin/admin-auth.ts";
import { adminRoutes } from "./admin/admin-routes.ts";
import { apiKeyAuth } from "./auth/api-key-auth.ts";
import { type OwnerIdOf, ownerIds } from "./auth/owner-id.ts";
import type { GatewayDeps } from "./deps.ts";
import { type AppEnv, factory } from "./factory.ts";
import { errorHandler, notFound } from "./http/error-handlers.ts";
import { keyLimitsMiddleware } from "./limits/key-limits-middleware.ts";
import { httpMetrics } from "./observability/http-metrics.ts";
import { httpTracing } from "./observability/http-tracing.ts";
import { requestBodyLimit } from "./request/body-limit.ts";
import { requireJsonBody } from "./request/require-json.ts";
import { batchesCancelRoute } from "./routes/batches-cancel.ts";
import { batchesCreateRoute } from "./routes/batches-create.ts";
import { batchesReadRoute } from "./routes/batches-read.ts";
import { chatCompletionsRoute } from "./routes/chat-completions.ts";
import { filesDeleteRoute } from "./routes/files-delete.ts";
import { filesReadRoute } from "./routes/files-read.ts";
import { filesUploadRoute } from "./routes/files-upload.ts";
import { fusionCancelRoute } from "./routes/fusion-cancel.ts";
import { fusionStatusRoute } from "./routes/fusion-status.ts";
import { fusionStreamRoute } from "./routes/fusion-stream.ts";
import { fusionsListRoute } from "./routes/fusions-list.ts";
import { healthzRoute } from "./routes/healthz.ts";
import { labRoutes } from "./routes/lab.ts";
import { metricsRoute } from "./routes/metrics.ts";
import { modelsRoute } from "./routes/models.ts";
import { readyzRoute } from "./routes/readyz.ts";

/**
 * The gateway's HTTP app. Every request is traced, counted and given a request id; probes and metrics
 * are open; the API (at `/api/v1` and `/v1`) checks the key, the per-key limits and the body size
 * before its routes.
 */
export function createApp(deps: GatewayDeps): Hono<AppEnv> {
  const app = factory.createApp();
  app.use(httpTracing(), httpMetrics(), requestId());

  app.route("/", healthzRoute());
  app.route("/", readyzRoute(deps));
  app.route("/", metricsRoute(deps));
  // Bull Board behind ADMIN_API_KEY; without the key, nothing is mounted and /admin/* is 404.
  if (deps.env.ADMIN_API_KEY) {
    const { ADMIN_API_KEY: key, ADMIN_QUEUES_READ_ONLY: readOnly } = deps.env;
    app.route(ADMIN_BASE, adminRoutes({ key, shards: deps.shards, redis: deps.redis, readOnly }));
  }

  // The lab page is public (LAB_ENABLED=false: /lab is 404); the API it calls checks the key.
  if (deps.env.LAB_ENABLED) app.route("/", labRoutes({ distDir: labDistDir, logger: deps.logger }));

  const { keyLimits } = deps;
  const ownerId = ownerIds(deps.redis, deps.env.OWNER_ID_SECRET);
  for (const base of ["/api/v1", "/v1"]) {
    // Multipart, with its own body limit: before the JSON-only API and its middleware.
    app.route(base, filesUploadRoute(deps, keyLimits, ownerId));
    // No body: before the API's JSON check, with its own key check and limits.
    app.route(base, filesDeleteRoute(deps, keyLimits, ownerId));
    app.route(base, apiRoutes(deps, keyLimits, ownerId));
  }

  app.notFound(notFound);
  app.onError(errorHandler(deps.logger));
  return app;
}

/**
 * The API behind the key: `POST /chat/completions`, `GET /models`, `GET /fusions`,
 * `GET /fusions/{id}[/stream]`, `POST /fusions/{id}/cancel`, and the Batch API (`GET /files[/{id}[/content]]`,
 * `POST /batches`, `GET /batches[/{id}]`, `POST /batches/{id}/cancel`; `POST /files` is `filesUploadRoute`, `DELETE /files/{id}` `filesDeleteRoute`).
 */
function apiRoutes(deps: GatewayDeps, keyLimits: KeyLimits, ownerId: OwnerIdOf): Hono<AppEnv> {
  const api = factory.createApp();
  api.use(
    apiKeyAuth(deps.env.GATEWAY_API_KEYS, ownerId),
    requireJsonBody(),
    keyLimitsMiddleware(keyLimits, deps.logger),
    requestBodyLimit(deps.env.BODY_LIMIT_BYTES),
  );
  api.route("/", chatCompletionsRoute(deps));
  api.route("/", modelsRoute(deps));
  api.route("/", fusionStatusRoute(deps));
  api.route("/", fusionStreamRoute(deps));
  api.route("/", fusionsListRoute(deps));
  api.route("/", fusionCancelRoute(deps));
  api.route("/", filesReadRoute(deps));
  api.route("/", batchesCreateRoute(deps));
  api.route("/", batchesReadRoute(deps));
  api.route("/", batchesCancelRoute(deps));
  return api;
}
