import { setTimeout as sleep } from "node:timers/promises";
import { type RedisFixture, startRedisServer } from "@fusion/testing";
import { FusionError } from "@fusion/wire";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisMemoryAdmission } from "./redis-memory-admission.ts";

// A redis-server of this file's own: it changes maxmemory.
let fixture: RedisFixture;
let redis: Redis;
beforeAll(async () => {
  fixture = await startRedisServer();
  redis = new Redis(fixture.url);
});
afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

async function usedMemory(): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
}

describe("redisMemoryAdmission", () => {
  it("refuses with 503 and Retry-After at the threshold of maxmemory, reading INFO at most once per cacheMs", async () => {
    const admit = redisMemoryAdmission(redis, { thresholdPercent: 90, cacheMs: 300 });
    await admit(); // no maxmemory: never full

    await redis.config("SET", "maxmemory", String(Math.ceil((await usedMemory()) / 0.95)));
    await sleep(350);
    const refused = await admit().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(FusionError);
    expect(refused).toMatchObject({ status: 503, code: "unavailable", headers: { "retry-after": "5" } });

    // Within cacheMs the last reading stands; after it, the new one.
    await redis.config("SET", "maxmemory", "0");
    await expect(admit()).rejects.toBeInstanceOf(FusionError);
    await sleep(350);
    await admit();
  });

  it("is off at 0 %, and lets fusions through when INFO cannot be read", async () => {
    await redis.config("SET", "maxmemory", String(await usedMemory()));
    try {
      await redisMemoryAdmission(redis, { thresholdPercent: 0 })();
    } finally {
      await redis.config("SET", "maxmemory", "0");
    }
    const down = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    await redisMemoryAdmission(down, { thresholdPercent: 90 })();
    down.disconnect();
  });
});
