import { randomBytes } from "node:crypto";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../redis/redis.ts";
import { OpenStreams } from "./open-streams.ts";

let fixture: RedisFixture;
let redis: Redis;
const opened: OpenStreams[] = [];

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "worker", "test:streams");
});
afterAll(async () => {
  for (const s of opened) s.close();
  redis?.disconnect();
  await fixture?.close();
});

const unique = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The counter as one gateway holds it; several on one prefix act as several gateways. */
function streams(prefix: string, max: number, leaseMs = 30_000): OpenStreams {
  const s = new OpenStreams(redis, { prefix, max, leaseMs, maxHoldMs: 60_000 });
  opened.push(s);
  return s;
}

describe("OpenStreams", () => {
  it("counts a key's open streams across gateways and refuses beyond the cap until one closes", async () => {
    const prefix = unique("{s}");
    const [a, b] = [streams(prefix, 3), streams(prefix, 3)];
    const key = unique("key");
    const held = [await a.tryOpen(key), await b.tryOpen(key), await a.tryOpen(key)];
    expect(held.every(Boolean)).toBe(true);
    expect(await b.tryOpen(key)).toBeUndefined();
    // Another key is not affected.
    expect(await b.tryOpen(unique("other"))).toBeDefined();
    held[1]?.release();
    held[1]?.release();
    const again = await b.tryOpen(key);
    expect(again).toBeDefined();
    expect(await a.tryOpen(key)).toBeUndefined();
  });

  it("forgets the streams of a gateway that stopped renewing after one lease", async () => {
    const prefix = unique("{s}");
    const dead = streams(prefix, 1, 150);
    const key = unique("key");
    expect(await dead.tryOpen(key)).toBeDefined();
    dead.close();
    expect(await streams(prefix, 1, 150).tryOpen(key)).toBeUndefined();
    await sleep(250);
    expect(await streams(prefix, 1, 150).tryOpen(key)).toBeDefined();
  });

  it("keeps an open stream counted past its lease while it is renewed", async () => {
    const prefix = unique("{s}");
    const live = streams(prefix, 1, 150);
    const key = unique("key");
    const stream = await live.tryOpen(key);
    await sleep(400);
    expect(await streams(prefix, 1, 150).tryOpen(key)).toBeUndefined();
    stream?.release();
    expect(live.held).toBe(0);
  });

  it("counts nothing when the cap is 0 (off)", async () => {
    const off = streams(unique("{s}"), 0);
    for (let i = 0; i < 5; i++) expect(await off.tryOpen("k")).toBeDefined();
    expect(off.held).toBe(0);
  });
});
