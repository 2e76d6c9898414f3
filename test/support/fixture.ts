import { type RunningSimulator, SimulatorControl, startSimulator } from "@fusion/simulator";
import { type RedisFixture, Stack, type StackOptions, startRedis, startRedisServer } from "@fusion/testing";
import OpenAI from "openai";
import { afterAll, beforeAll } from "vitest";

export interface E2E {
  redis: RedisFixture;
  sim: RunningSimulator;
  control: SimulatorControl;
  stack: Stack;
  /** The official openai client, pointed at the gateway with a valid key. */
  client: OpenAI;
  /** POST /api/v1/chat/completions with raw fetch. */
  post(body: unknown, init?: { headers?: Record<string, string>; path?: string }): Promise<Response>;
}

/**
 * Starts a real Redis, the simulator and the services as separate processes for one test file, and
 * stops them after it.
 */
export function useStack(
  options: Partial<Omit<StackOptions, "redisUrl" | "simulatorUrl">> & {
    /** A redis-server of the suite's own, even when REDIS_URL is set: for suites that stop Redis. */
    ownRedis?: boolean;
    /** Environment of every service that names the simulator (e.g. a search API's URL), on top of `env`. */
    simulatorEnv?: (simulatorUrl: string) => Record<string, string>;
  } = {},
): E2E {
  const e2e = {} as E2E;
  beforeAll(async () => {
    e2e.redis = options.ownRedis ? await startRedisServer() : await startRedis();
    e2e.sim = await startSimulator();
    e2e.control = new SimulatorControl(e2e.sim.url, e2e.sim.controlToken);
    const env = { ...options.env, ...options.simulatorEnv?.(e2e.sim.url) };
    e2e.stack = new Stack({ redisUrl: e2e.redis.url, simulatorUrl: e2e.sim.url, ...options, env });
    await e2e.stack.start();
    e2e.client = new OpenAI({
      baseURL: `${e2e.stack.baseUrl}/api/v1`,
      apiKey: e2e.stack.apiKey,
      maxRetries: 0,
      timeout: 30_000,
    });
    e2e.post = (body, init = {}) =>
      fetch(`${e2e.stack.baseUrl}${init.path ?? "/api/v1/chat/completions"}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${e2e.stack.apiKey}`,
          ...init.headers,
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
  });
  afterAll(async () => {
    await e2e.stack?.stop();
    await e2e.sim?.close();
    await e2e.redis?.close();
  });
  return e2e;
}

/** A model slug unique to one test, so that scripts and recorded requests do not mix. */
export function uniqueModel(name: string): string {
  return `sim/${name}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The JSON body of a recorded upstream request (an empty object when there is none). */
export function bodyOf(request: { body: unknown } | undefined): Record<string, unknown> {
  return (request?.body ?? {}) as Record<string, unknown>;
}
