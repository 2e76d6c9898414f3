import { randomBytes } from "node:crypto";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../redis/redis.ts";
import { KeyLimits, type KeyLimitsOptions } from "./key-limits.ts";

let fixture: RedisFixture;
let redis: Redis;
const opened: KeyLimits[] = [];

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "worker", "test:check");
});
afterAll(async () => {
  for (const l of opened) l.close();
  redis?.disconnect();
  await fixture?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unique = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

/** A limiter as one gateway holds it; several on one prefix act as several gateways. */
function limiter(prefix: string, options: Partial<KeyLimitsOptions> = {}): KeyLimits {
  const l = new KeyLimits(redis, { prefix, rpm: 0, maxConcurrent: 0, maxHoldMs: 60_000, ...options });
  opened.push(l);
  return l;
}

describe("requests per minute", () => {
  it("allows rpm requests in a window and refuses the next with the wait until a slot frees", async () => {
    const l = limiter(unique("{p}"), { rpm: 5 });
    const key = unique("key");
    for (let i = 1; i <= 5; i++) expect(await l.hit(key)).toEqual({ allowed: true, count: i });
    const refused = await l.hit(key);
    expect(refused.allowed).toBe(false);
    if (refused.allowed) return;
    expect(refused.count).toBe(5);
    expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // A refused request takes no slot, and the log expires with its window.
    expect(await redis.zcard(l.rpmKey(key))).toBe(5);
    expect(await redis.pttl(l.rpmKey(key))).toBeGreaterThan(55_000);
  });

  it("holds across gateways sharing Redis, per key", async () => {
    const prefix = unique("{p}");
    const [a, b] = [limiter(prefix, { rpm: 3 }), limiter(prefix, { rpm: 3 })];
    const key = unique("key");
    expect((await a.hit(key)).allowed).toBe(true);
    expect((await b.hit(key)).allowed).toBe(true);
    expect((await a.hit(key)).allowed).toBe(true);
    expect((await b.hit(key)).allowed).toBe(false);
    expect((await a.hit(key)).allowed).toBe(false);
    expect((await b.hit(unique("other"))).allowed).toBe(true);
  });

  it("is a sliding window: requests count again once they are older than the window", async () => {
    const l = limiter(unique("{p}"), { rpm: 2, windowMs: 800 });
    const key = unique("key");
    expect((await l.hit(key)).allowed).toBe(true);
    await sleep(500);
    expect((await l.hit(key)).allowed).toBe(true);
    const refused = await l.hit(key);
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) expect(refused.retryAfterMs).toBeLessThanOrEqual(300);
    await sleep(400); // the first request left the window, the second did not
    expect(await l.hit(key)).toEqual({ allowed: true, count: 2 });
    expect((await l.hit(key)).allowed).toBe(false);
  });

  it("counts exactly under concurrent hits from several gateways", async () => {
    const prefix = unique("{p}");
    const gateways = [
      limiter(prefix, { rpm: 10 }),
      limiter(prefix, { rpm: 10 }),
      limiter(prefix, { rpm: 10 }),
    ];
    const key = unique("key");
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => gateways[i % 3]?.hit(key)));
    expect(results.filter((r) => r?.allowed)).toHaveLength(10);
  });

  it("writes nothing when off", async () => {
    const l = limiter(unique("{p}"), { rpm: 0 });
    const key = unique("key");
    for (let i = 0; i < 20; i++) expect((await l.hit(key)).allowed).toBe(true);
    expect(await redis.exists(l.rpmKey(key))).toBe(0);
  });
});

describe("concurrent fusions", () => {
  it("holds at most maxConcurrent slots across gateways and frees one on release", async () => {
    const prefix = unique("{p}");
    const [a, b] = [limiter(prefix, { maxConcurrent: 2 }), limiter(prefix, { maxConcurrent: 2 })];
    const key = unique("key");
    const first = await a.tryAcquire(key, "f1");
    const second = await b.tryAcquire(key, "f2");
    expect([first.allowed, second.allowed]).toEqual([true, true]);
    const third = await a.tryAcquire(key, "f3");
    expect(third).toMatchObject({ allowed: false, count: 2, retryAfterMs: 1000 });
    expect(third.slot).toBeUndefined();
    expect((await b.tryAcquire(unique("other"), "f4")).allowed).toBe(true);

    first.slot?.release();
    first.slot?.release(); // idempotent
    await sleep(20);
    expect(await redis.zrange(a.fusionsKey(key), "0", "-1")).toEqual(["f2"]);
    expect((await b.tryAcquire(key, "f5")).allowed).toBe(true);
    expect((await a.tryAcquire(key, "f6")).allowed).toBe(false);
  });

  it("taking the same fusion twice holds one slot", async () => {
    const l = limiter(unique("{p}"), { maxConcurrent: 1 });
    const key = unique("key");
    expect((await l.tryAcquire(key, "same")).allowed).toBe(true);
    expect((await l.tryAcquire(key, "same")).allowed).toBe(true);
    expect(await redis.zcard(l.fusionsKey(key))).toBe(1);
  });

  it("a live gateway keeps renewing its slots; a dead one's lapse after one lease", async () => {
    const prefix = unique("{p}");
    const key = unique("key");
    const live = limiter(prefix, { maxConcurrent: 1, leaseMs: 500 });
    const held = await live.tryAcquire(key, "live");
    expect(held.allowed).toBe(true);
    await sleep(1200); // more than two leases: only renewals keep it
    const other = limiter(prefix, { maxConcurrent: 1, leaseMs: 500 });
    expect((await other.tryAcquire(key, "x")).allowed).toBe(false);

    // The gateway "dies": it stops renewing without releasing.
    live.close();
    await sleep(650);
    const taken = await other.tryAcquire(key, "x");
    expect(taken.allowed).toBe(true);
    expect(await redis.zrange(other.fusionsKey(key), "0", "-1")).toEqual(["x"]);
    taken.slot?.release();
  });

  it("lets go of a slot held longer than maxHoldMs", async () => {
    const l = limiter(unique("{p}"), { maxConcurrent: 1, leaseMs: 150, maxHoldMs: 200 });
    const key = unique("key");
    expect((await l.tryAcquire(key, "stuck")).allowed).toBe(true);
    expect(l.held).toBe(1);
    await sleep(500);
    expect(l.held).toBe(0);
    expect((await l.tryAcquire(key, "next")).allowed).toBe(true);
  });

  it("any gateway can free a slot another holds once its fusion ended; the holder's renewal does not take it back", async () => {
    const prefix = unique("{p}");
    const key = unique("key");
    const holder = limiter(prefix, { maxConcurrent: 1, leaseMs: 300 });
    const observer = limiter(prefix, { maxConcurrent: 1, leaseMs: 300 });
    expect((await holder.tryAcquire(key, "ended")).allowed).toBe(true);
    await observer.releaseFusion(key, "ended");
    expect(await redis.zcard(observer.fusionsKey(key))).toBe(0);
    await sleep(400); // the holder renewed at least once meanwhile
    expect(await redis.zcard(holder.fusionsKey(key))).toBe(0);
    expect((await observer.tryAcquire(key, "next")).allowed).toBe(true);
  });

  it("is always allowed and writes nothing when off", async () => {
    const l = limiter(unique("{p}"), { maxConcurrent: 0 });
    const key = unique("key");
    for (let i = 0; i < 5; i++) expect((await l.tryAcquire(key, `f${i}`)).allowed).toBe(true);
    expect(await redis.exists(l.fusionsKey(key))).toBe(0);
    expect(l.held).toBe(0);
  });
});
