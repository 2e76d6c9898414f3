import {
  ConfigError,
  createLogger,
  invalidConfiguration,
  parseEnv,
  shutdownTracing,
  startTracing,
} from "@fusion/runtime";
import { createApp } from "./app.ts";
import { startBatchExpiry } from "./batches/batch-expiry-worker.ts";
import { createGatewayDeps, type GatewayResources } from "./deps.ts";
import { type GatewayEnv, gatewayEnvSchema } from "./env.ts";
import { unauthenticatedBindProblem } from "./server/bind-policy.ts";
import { createHttpServer } from "./server/http-server.ts";
import { webhookConfigProblems } from "./webhooks/webhook-config.ts";

await startTracing("gateway");
const logger = createLogger("gateway");

let env: GatewayEnv;
let gateway: GatewayResources;
try {
  env = parseEnv(gatewayEnvSchema);
  const unsafe = unauthenticatedBindProblem(env);
  if (unsafe) throw invalidConfiguration([["GATEWAY_API_KEYS", unsafe]]);
  const webhookProblems = webhookConfigProblems(env);
  if (webhookProblems.length > 0) throw invalidConfiguration(webhookProblems);
  gateway = createGatewayDeps(env, logger);
} catch (err) {
  logger.fatal(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}

const app = createApp(gateway.deps);
// Ends each batch at its window's end, whether or not a judge worker runs.
const batchExpiry = startBatchExpiry(gateway.deps);

if (env.GATEWAY_API_KEYS.length === 0) {
  logger.warn(
    { host: env.HOST },
    "GATEWAY_API_KEYS is not set: the API is open to anyone who can reach this address",
  );
}

// A listen backlog well above Node's default 511, so that a burst of connections is queued, not reset.
const server = createHttpServer(app.fetch, env);
server.listen({ port: env.PORT, host: env.HOST, backlog: env.LISTEN_BACKLOG }, () => {
  logger.info({ host: env.HOST, port: env.PORT, upstream: env.UPSTREAM_BASE_URL }, "gateway listening");
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: no new requests, letting open streams finish");
  const grace = setTimeout(() => {
    logger.warn("grace period over: closing remaining connections");
    server.closeAllConnections();
  }, env.SHUTDOWN_GRACE_MS);
  grace.unref();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clearTimeout(grace);
  await batchExpiry.close();
  await gateway.close();
  await shutdownTracing();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
