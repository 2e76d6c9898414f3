import { randomBytes } from "node:crypto";
import { createLogger, KeyLimits, keys } from "@fusion/runtime";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis } from "../test-gateway.ts";
import { FusionSlots } from "./fusion-slots.ts";

/** A fusion's slot lives until its terminal event (issue 11, finding 1), seen by any gateway. */

let fixture: RedisFixture;
let redis: Redis;
const closing: Array<() => void> = [];
beforeAll(async () => {
  fixture = await startRedis();
  redis = testRedis(fixture.url);
});
afterAll(async () => {
  for (const close of closing) close();
  redis?.disconnect();
  await fixture?.close();
});

const unique = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;
const logger = createLogger("slots-test", "silent");

/** One gateway's limits and slots on a shared prefix. */
function gateway(prefix: string) {
  const limits = new KeyLimits(redis, { prefix, rpm: 0, maxConcurrent: 1, maxHoldMs: 60_000 });
  const slots = new FusionSlots({ redis, logger, limits, maxHoldMs: 60_000, checkEveryMs: 50 });
  closing.push(
    () => slots.close(),
    () => limits.close(),
  );
  return { limits, slots };
}

async function take(g: ReturnType<typeof gateway>, owner: string, fusionId: string): Promise<boolean> {
  const decision = await g.limits.tryAcquire(owner, fusionId);
  if (decision.slot) g.slots.hold(fusionId, owner, decision.slot);
  return decision.allowed;
}

describe("FusionSlots", () => {
  it("keeps a slot while the fusion runs and frees it at its final event, with nobody reading", async () => {
    const g = gateway(unique("{p}"));
    const [owner, id] = [unique("key"), unique("f")];
    expect(await take(g, owner, id)).toBe(true);
    await g.slots.check();
    expect(g.slots.size).toBe(1);
    expect(await take(g, owner, unique("f"))).toBe(false);
    await redis.xadd(keys.events(id), "*", "t", "final", "d", "{}");
    await g.slots.check();
    expect(g.slots.size).toBe(0);
    expect(await redis.zcard(g.limits.fusionsKey(owner))).toBe(0);
  });

  it("frees the slot of a cancelled fusion, and another gateway that sees the end frees it too", async () => {
    const prefix = unique("{p}");
    const [holder, observer] = [gateway(prefix), gateway(prefix)];
    const [owner, id] = [unique("key"), unique("f")];
    expect(await take(holder, owner, id)).toBe(true);
    await observer.slots.settle(id, owner);
    expect(await redis.zcard(holder.limits.fusionsKey(owner))).toBe(1);
    await redis.set(keys.cancelled(id), "1");
    await observer.slots.settle(id, owner);
    expect(await redis.zcard(holder.limits.fusionsKey(owner))).toBe(0);
    expect(await take(observer, owner, unique("f"))).toBe(true);
  });

  it("keeps the slot when Redis cannot tell the fusion's state (fail closed)", async () => {
    const g = gateway(unique("{p}"));
    const [owner, id] = [unique("key"), unique("f")];
    expect(await take(g, owner, id)).toBe(true);
    await redis.hset(keys.events(id), "broken", "1"); // XREVRANGE answers WRONGTYPE
    await g.slots.settle(id, owner);
    expect(g.slots.size).toBe(1);
    expect(await redis.zcard(g.limits.fusionsKey(owner))).toBe(1);
  });

  it("frees at once the slot of a fusion that was never enqueued", async () => {
    const g = gateway(unique("{p}"));
    const [owner, id] = [unique("key"), unique("f")];
    expect(await take(g, owner, id)).toBe(true);
    g.slots.drop(id);
    await new Promise((r) => setTimeout(r, 20));
    expect(g.slots.size).toBe(0);
    expect(await redis.zcard(g.limits.fusionsKey(owner))).toBe(0);
  });
});
