import { randomBytes } from "node:crypto";
import { ProviderRouter, UpstreamError } from "@fusion/llm-client";
import { useSimulator } from "@fusion/simulator/test-support";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../redis/redis.ts";
import { RedisSemaphore, SemaphoreTimeoutError, SemaphoreUnavailableError } from "./redis-semaphore.ts";

let fixture: RedisFixture;
/** Two connections, as two processes would have. */
let redisA: Redis;
let redisB: Redis;

beforeAll(async () => {
  fixture = await startRedis();
  redisA = createRedis(fixture.url, "worker", "test:semaphore:a");
  redisB = createRedis(fixture.url, "worker", "test:semaphore:b");
});

afterAll(async () => {
  redisA?.disconnect();
  redisB?.disconnect();
  await fixture?.close();
});

const newKey = () => `{sem-${randomBytes(4).toString("hex")}}:provider:test`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pair(limit: number, extra: { leaseMs?: number } = {}): [RedisSemaphore, RedisSemaphore] {
  const key = newKey();
  const options = { key, limit, minPollMs: 5, maxPollMs: 50, ...extra };
  return [
    new RedisSemaphore({ ...options, redis: redisA }),
    new RedisSemaphore({ ...options, redis: redisB }),
  ];
}

describe("RedisSemaphore", () => {
  it("holds the limit across two instances on two connections", async () => {
    const [a, b] = pair(2);
    let running = 0;
    let most = 0;
    const task = (s: RedisSemaphore) =>
      s.run(async () => {
        running++;
        most = Math.max(most, running);
        await sleep(40);
        running--;
      });
    await Promise.all([a, b, a, b, a, b, a, b].map(task));
    expect(most).toBe(2);
    expect(a.held + b.held).toBe(0);
  });

  it("grants permits first come, first served across instances", async () => {
    const [a, b] = pair(1);
    const first = await a.acquire();
    const order: string[] = [];
    const waiters = [];
    for (const [name, s] of [
      ["w1", b],
      ["w2", a],
      ["w3", b],
    ] as const) {
      waiters.push(
        s.run(async () => {
          order.push(name);
          await sleep(5);
        }),
      );
      await sleep(30); // each waiter has polled once, so it is queued
    }
    first.release();
    await Promise.all(waiters);
    expect(order).toEqual(["w1", "w2", "w3"]);
  });

  it("keeps a permit past its lease while the holder lives, and frees it after a crash", async () => {
    const [a, b] = pair(1, { leaseMs: 300 });
    const held = await a.acquire();
    await expect(b.acquire({ timeoutMs: 700 })).rejects.toBeInstanceOf(SemaphoreTimeoutError);
    held.release();
    const again = await a.acquire();
    a.close(); // stops renewing without releasing: what a killed process leaves behind
    const started = Date.now();
    const taken = await b.acquire({ timeoutMs: 2_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    taken.release();
    again.release();
  });

  it("drops a waiter that is aborted, and one that stopped polling, from the queue", async () => {
    const [a, b] = pair(1);
    const held = await a.acquire();
    const controller = new AbortController();
    const aborted = b.acquire({ signal: controller.signal });
    await sleep(30);
    const behind = a.acquire();
    await sleep(30);
    controller.abort(new Error("gone"));
    await expect(aborted).rejects.toThrow("gone");
    held.release();
    (await behind).release();

    // A waiter whose heartbeat lapsed (its process died) does not hold up the queue.
    const key = newKey();
    await redisA.zadd(`${key}:queue`, 0, "ghost");
    await redisA.zadd(`${key}:waiters`, Date.now() - 1_000, "ghost");
    const s = new RedisSemaphore({ redis: redisA, key, limit: 1 });
    const permit = await s.acquire({ timeoutMs: 500 });
    expect(await redisA.zscore(`${key}:queue`, "ghost")).toBeNull();
    permit.release();
  });
});

describe("ProviderRouter concurrency across instances", () => {
  const sim = useSimulator();
  const routers: ProviderRouter[] = [];

  afterAll(async () => {
    await Promise.all(routers.map((r) => r.close()));
  });

  function makeRouters(limit: number, queueTimeoutMs?: number): [ProviderRouter, ProviderRouter] {
    const keyPrefix = `{sem-${randomBytes(4).toString("hex")}}`;
    const config = {
      providers: {
        gpu: {
          name: "gpu",
          baseUrl: `${sim.url}/v1`,
          headers: {},
          maxConcurrency: limit,
          ...(queueTimeoutMs ? { queueTimeoutMs } : {}),
        },
      },
      routes: [{ match: "*", provider: "gpu" }],
    };
    const made = [redisA, redisB].map(
      (redis) =>
        new ProviderRouter({
          config,
          limiter: (name, limit) =>
            new RedisSemaphore({
              redis,
              key: `${keyPrefix}:provider:${name}`,
              limit,
              minPollMs: 5,
              maxPollMs: 50,
            }),
          defaults: { maxRetries: 0 },
        }),
    ) as [ProviderRouter, ProviderRouter];
    routers.push(...made);
    return made;
  }

  it("never lets the upstream see more than max_concurrency calls, whatever the method", async () => {
    const model = "sim/slow-gpu";
    sim.state.setScript(model, { latencyMs: 120 });
    const [one, two] = makeRouters(2);
    const body = { model, messages: [{ role: "user", content: "hi" }] };
    sim.concurrency.reset();
    const started = Date.now();
    await Promise.all([
      one.complete(body),
      two.complete(body),
      one.streamTurn(body),
      two.streamTurn(body),
      (async () => {
        for await (const _ of one.stream(body)) {
          // drain
        }
      })(),
      (async () => {
        const res = await two.proxy("/chat/completions", JSON.stringify(body));
        await new Response(res.body).text();
      })(),
      one.complete(body),
      two.complete(body),
    ]);
    expect(sim.concurrency.max).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 120 - 20);
    expect(sim.state.listRequests({ model })).toHaveLength(8);
  });

  it("gives up after queue_timeout_ms: an UpstreamError, and a 503 when proxying", async () => {
    const model = "sim/busy-gpu";
    sim.state.setScript(model, { latencyMs: 400 });
    const [one, two] = makeRouters(1, 100);
    const body = { model, messages: [{ role: "user", content: "hi" }] };
    const busy = one.complete(body);
    await sleep(30);
    const error = await two.complete(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ kind: "timeout", retryable: false });
    const res = await two.proxy("/chat/completions", JSON.stringify(body));
    expect(res.status).toBe(503);
    await busy;
  });
});

describe("fails closed when Redis fails (issue 11, finding 13)", () => {
  const sim = useSimulator();
  let down: RedisFixture;
  const connections: Redis[] = [];
  beforeAll(async () => {
    down = await startRedis();
  });
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await down?.close();
  });
  const ready = (c: Redis) =>
    c.status === "ready"
      ? Promise.resolve()
      : new Promise<void>((resolve) => c.once("ready", () => resolve()));
  /** A connection of each kind: "producer" fails fast while Redis is away, "commands" queues commands. */
  const connect = (role: "producer" | "commands") => {
    const c = createRedis(down.url, role, `test:semaphore:down:${role}`);
    c.on("error", () => {});
    connections.push(c);
    return c;
  };

  it("gives no permit while Redis is down: it retries until its timeout, then a clear error", async () => {
    const producer = connect("producer");
    const commands = connect("commands");
    await Promise.all([ready(producer), ready(commands)]);
    await down.stop();
    for (const redis of [producer, commands]) {
      const s = new RedisSemaphore({ redis, key: newKey(), limit: 1, name: "provider gpu" });
      const started = Date.now();
      const error = await s.acquire({ timeoutMs: 600 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SemaphoreUnavailableError);
      expect(error).toBeInstanceOf(SemaphoreTimeoutError);
      expect((error as Error).message).toMatch(
        /^no free slot of provider gpu \(limit 1\) within 600 ms: Redis unavailable/,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(590);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(s.held).toBe(0);
      s.close();
    }
    await down.restart();
  });

  it("takes the permit once Redis is back within the timeout", async () => {
    const producer = connect("producer");
    await ready(producer);
    const s = new RedisSemaphore({ redis: producer, key: newKey(), limit: 1 });
    await down.stop();
    const waiting = s.acquire({ timeoutMs: 10_000 });
    await sleep(300);
    await down.restart();
    const permit = await waiting;
    expect(s.held).toBe(1);
    permit.release();
    s.close();
  });

  it("a provider with max_concurrency never reaches the upstream while Redis is down (no unlimited calls)", async () => {
    const redis = connect("producer");
    await ready(redis);
    const model = "sim/gpu-redis-down";
    sim.state.setScript(model, { latencyMs: 50 });
    const router = new ProviderRouter({
      config: {
        providers: {
          gpu: { name: "gpu", baseUrl: `${sim.url}/v1`, headers: {}, maxConcurrency: 1, queueTimeoutMs: 400 },
        },
        routes: [{ match: "*", provider: "gpu" }],
      },
      limiter: (name, limit) => new RedisSemaphore({ redis, key: `${newKey()}:${name}`, limit }),
      defaults: { maxRetries: 0 },
    });
    await down.stop();
    const body = { model, messages: [{ role: "user", content: "hi" }] };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => router.complete(body).catch((e: unknown) => e)),
    );
    for (const error of results) {
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ kind: "timeout", retryable: false });
      expect((error as Error).message).toContain("Redis unavailable");
    }
    const res = await router.proxy("/chat/completions", JSON.stringify(body));
    expect(res.status).toBe(503);
    expect(sim.state.listRequests({ model })).toHaveLength(0);
    await router.close();
    await down.restart();
  });
});
