import { randomBytes } from "node:crypto";
import { createLogger, keys } from "@fusion/runtime";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis } from "../test-gateway.ts";
import { Readers } from "./readers.ts";

/** Resume grace in Redis (issue 11, finding 13): any gateway's sweep cancels, and never on a Redis error. */

let fixture: RedisFixture;
let redis: Redis;
beforeAll(async () => {
  fixture = await startRedis();
  redis = testRedis(fixture.url);
});
afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unique = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;
const logger = createLogger("readers-test", "silent");

function readers(graceKey: string, onCancelled?: (id: string) => void): Readers {
  return new Readers({ redis, logger, ttlSeconds: 60, graceKey, ...(onCancelled ? { onCancelled } : {}) });
}
const cancelled = async (fusionId: string) => (await redis.exists(keys.cancelled(fusionId))) === 1;

describe("Readers", () => {
  it("cancels at once without a grace", async () => {
    const r = readers(unique("{g}:grace"));
    const id = unique("f");
    await r.clientGone(id, "req", 0);
    expect(await cancelled(id)).toBe(true);
  });

  it("ends the stream of a fusion it cancels, so a resume or a retry reads its end at once", async () => {
    const r = readers(unique("{g}:grace"));
    const id = unique("f");
    await redis.hset(keys.meta(id), { owner: "o", created: "1700000000000", model: "sim/w" });
    await r.clientGone(id, "req", 0);
    expect(await cancelled(id)).toBe(true);
    const entries = (await redis.xrange(keys.events(id), "-", "+")) as Array<[string, string[]]>;
    const last = entries.at(-1)?.[1] ?? [];
    expect(last[last.indexOf("t") + 1]).toBe("error");
    expect(JSON.parse(last[last.indexOf("d") + 1] ?? "{}")).toMatchObject({ status: 499, cancelled: true });
    expect(await redis.hget(keys.meta(id), "status")).toBe("cancelled");
  });

  it("keeps the deadline in Redis: another gateway's sweep cancels after it, unless a reader is back", async () => {
    const graceKey = unique("{g}:grace");
    const [left, back] = [unique("left"), unique("back")];
    const seen: string[] = [];
    const gone = readers(graceKey);
    const survivor = readers(graceKey, (id) => seen.push(id));
    await gone.clientGone(left, "req", 150);
    await gone.clientGone(back, "req", 150);
    survivor.attach(back);
    await survivor.sweep();
    expect(await cancelled(left)).toBe(false);
    await sleep(200);
    await survivor.sweep();
    expect(await cancelled(left)).toBe(true);
    expect(await cancelled(back)).toBe(false);
    expect(seen).toEqual([left]);
    expect(await redis.zcard(graceKey)).toBe(0);
  });

  it("never cancels on a Redis error while counting readers, and drops the deadline once the fusion ended", async () => {
    const graceKey = unique("{g}:grace");
    const id = unique("f");
    const r = readers(graceKey);
    await redis.hset(keys.readers(id), "broken", "1"); // GET answers WRONGTYPE
    await r.clientGone(id, "req", 10);
    await sleep(20);
    await r.sweep();
    expect(await cancelled(id)).toBe(false);
    expect(await redis.zscore(graceKey, id)).not.toBeNull();
    await redis.xadd(keys.events(id), "*", "t", "final", "d", "{}");
    await sleep(300);
    await r.sweep();
    expect(await cancelled(id)).toBe(false);
    expect(await redis.zscore(graceKey, id)).toBeNull();
  });
});
