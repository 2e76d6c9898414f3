import { randomBytes } from "node:crypto";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../redis/redis.ts";
import { type HeldLease, LeaseRenewer } from "./lease-renewer.ts";

let fixture: RedisFixture;
let redis: Redis;
const renewers: LeaseRenewer[] = [];

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "worker", "test:leases");
});
afterAll(async () => {
  for (const r of renewers) r.close();
  redis?.disconnect();
  await fixture?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newKey = () => `{lease-${randomBytes(4).toString("hex")}}:leases`;

function renewer(options: { leaseMs: number; maxHoldMs?: number; redis?: Redis }): LeaseRenewer {
  const r = new LeaseRenewer({ redis, maxHoldMs: 60_000, ...options });
  renewers.push(r);
  return r;
}

/** Takes a lease in Redis as its owner would, then hands it to the renewer. */
async function take(r: LeaseRenewer, key: string, id: string, leaseMs: number): Promise<HeldLease> {
  await redis.zadd(key, Date.now() + leaseMs, id);
  return r.hold(key, id);
}

describe("LeaseRenewer", () => {
  it("keeps held leases alive past their lease, on every key, until released", async () => {
    const r = renewer({ leaseMs: 300 });
    const [k1, k2] = [newKey(), newKey()];
    const a = await take(r, k1, "a", 300);
    await take(r, k2, "b", 300);
    expect(r.size).toBe(2);
    await sleep(700);
    const now = Date.now();
    expect(Number(await redis.zscore(k1, "a"))).toBeGreaterThan(now);
    expect(Number(await redis.zscore(k2, "b"))).toBeGreaterThan(now);

    expect(r.release(a)).toBe(true);
    expect(r.release(a)).toBe(false);
    expect(r.size).toBe(1);
    await sleep(500);
    // No longer renewed: its score is in the past (pruning it is the owner's business).
    expect(Number(await redis.zscore(k1, "a"))).toBeLessThan(Date.now());
  });

  it("does not take back a lease that lapsed in Redis", async () => {
    const r = renewer({ leaseMs: 60 });
    const key = newKey();
    await take(r, key, "gone", 60);
    await redis.zrem(key, "gone");
    await r.renew();
    expect(await redis.zscore(key, "gone")).toBeNull();
  });

  it("a lease taken again replaces the first: releasing the first one keeps the second", async () => {
    const r = renewer({ leaseMs: 1000 });
    const key = newKey();
    const first = r.hold(key, "same");
    const second = r.hold(key, "same");
    expect(r.size).toBe(1);
    expect(r.release(first)).toBe(false);
    expect(r.size).toBe(1);
    expect(r.release(second)).toBe(true);
    expect(r.size).toBe(0);
  });

  it("stops renewing a lease held longer than maxHoldMs and tells its owner", async () => {
    const r = renewer({ leaseMs: 90, maxHoldMs: 150 });
    const expired: HeldLease[] = [];
    r.on("expired", (lease) => expired.push(lease));
    const key = newKey();
    await take(r, key, "stuck", 90);
    await sleep(350);
    expect(expired.map((l) => [l.key, l.id])).toEqual([[key, "stuck"]]);
    expect(r.size).toBe(0);
  });

  it("reports a renewal that failed, and close() forgets every lease", async () => {
    const broken = createRedis("redis://127.0.0.1:1", "producer", "test:leases:down");
    broken.on("error", () => {});
    const r = renewer({ leaseMs: 60, redis: broken });
    const failures: Error[] = [];
    r.on("failed", (err) => failures.push(err));
    r.hold(newKey(), "x");
    await sleep(200);
    expect(failures.length).toBeGreaterThan(0);
    r.close();
    expect(r.size).toBe(0);
    broken.disconnect();
  });
});
