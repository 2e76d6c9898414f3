import { randomBytes } from "node:crypto";
import { createLogger, createRedis, type Logger, parseEnv } from "@fusion/runtime";
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import { createApp } from "./app.ts";
import { createGatewayDeps, type GatewayDeps } from "./deps.ts";
import { type GatewayEnv, gatewayEnvSchema } from "./env.ts";
import type { AppEnv } from "./factory.ts";

/**
 * A gateway app for in-process tests: `createApp` with its real dependencies (Redis connections, BullMQ
 * queues, event relay, upstream client) against a test's Redis and upstream (the simulator), driven with
 * `app.request(...)`. Several gateways built on the same Redis and prefix behave like separate processes.
 */
export interface TestGateway {
  app: Hono<AppEnv>;
  deps: GatewayDeps;
  env: GatewayEnv;
  /** Authorization header with the gateway's first key. */
  auth: Record<string, string>;
  /** Jobs waiting in any of the gateway's queues, by state (to prove nothing was enqueued). */
  jobCounts(): Promise<number>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  redisUrl: string;
  /** The upstream base URL, e.g. `${sim.url}/v1`. */
  upstreamUrl: string;
  /** Environment variables on top of test defaults (a random prefix and key). */
  env?: Record<string, string>;
  logger?: Logger;
}

/** Builds the gateway and waits until its Redis connections are ready (the producer one queues nothing). */
export async function testGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const key = `sk-test-${randomBytes(8).toString("hex")}`;
  const env = parseEnv(gatewayEnvSchema, {
    REDIS_URL: options.redisUrl,
    UPSTREAM_BASE_URL: options.upstreamUrl,
    // The simulator speaks OpenRouter's dialect; its 127.0.0.1 URL alone would say generic.
    UPSTREAM_DIALECT: "openrouter",
    UPSTREAM_API_KEY: "sk-upstream-test",
    GATEWAY_API_KEYS: key,
    QUEUE_PREFIX: `{gw-${randomBytes(4).toString("hex")}}`,
    KEEPALIVE_MS: "200",
    ...options.env,
  });
  const logger = options.logger ?? createLogger("gateway-test", "silent");
  const gateway = createGatewayDeps(env, logger, "test:gateway");
  await gateway.ready();
  const { deps } = gateway;
  const app = createApp(deps);
  return {
    app,
    deps,
    env,
    auth: { authorization: `Bearer ${env.GATEWAY_API_KEYS[0] ?? key}` },
    async jobCounts() {
      let n = 0;
      for (const q of deps.shards.flatMap((shard) => Object.values(shard.queues))) {
        const counts = await q.getJobCounts();
        for (const v of Object.values(counts)) n += v;
      }
      return n;
    },
    close: () => gateway.close(),
  };
}

/** A Redis connection for a test's own checks. */
export function testRedis(url: string): Redis {
  return createRedis(url, "worker", "test:check");
}
