import { createHash } from "node:crypto";
import { type RedisFixture, startRedis } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../redis/keys.ts";
import { createRedis, type RedisClient } from "../redis/redis.ts";
import { IdempotencyRecords } from "./idempotency-records.ts";

let fixture: RedisFixture;
let redis: RedisClient;
beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "producer", "test-idempotency");
  // A producer fails fast: it queues nothing before its connection is ready.
  await new Promise<void>((resolve) => redis.once("ready", () => resolve()));
});
afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

let seq = 0;
const scope = (key = "retry-1") => ({ owner: `owner-${process.pid}-${++seq}`, key });
const recordKey = (s: { owner: string; key: string }) =>
  keys.idempotency(s.owner, createHash("sha256").update(s.key).digest("hex"));

describe("IdempotencyRecords", () => {
  const records = () => new IdempotencyRecords(redis, { retentionMs: 60_000, pendingMs: 5_000 });

  it("the first claim wins; later ones read its fusion until it is committed, then for the retention", async () => {
    const s = scope();
    expect(await records().claim(s, "gen-fusion-a", "fp-1")).toEqual({ claimed: true });
    expect(await records().claim(s, "gen-fusion-b", "fp-2")).toEqual({
      claimed: false,
      record: { fusionId: "gen-fusion-a", fingerprint: "fp-1", state: "pending" },
    });
    expect(await redis.pttl(recordKey(s))).toBeLessThanOrEqual(5_000);

    expect(await records().commit(s, "gen-fusion-a")).toBe(true);
    expect(await records().claim(s, "gen-fusion-c", "fp-1")).toEqual({
      claimed: false,
      record: { fusionId: "gen-fusion-a", fingerprint: "fp-1", state: "committed" },
    });
    expect(await redis.pttl(recordKey(s))).toBeGreaterThan(50_000);
  });

  it("a released claim frees the key; release and commit leave another fusion's record alone", async () => {
    const s = scope();
    await records().claim(s, "gen-fusion-a", "fp");
    await records().release(s, "gen-fusion-other");
    expect(await records().commit(s, "gen-fusion-other")).toBe(false);
    expect(await redis.hget(recordKey(s), "state")).toBe("pending");

    await records().release(s, "gen-fusion-a");
    expect(await redis.exists(recordKey(s))).toBe(0);
    expect(await records().claim(s, "gen-fusion-b", "fp")).toEqual({ claimed: true });
    expect(await records().commit(s, "gen-fusion-a")).toBe(false);
  });

  it("keys are scoped by owner, and any printable key (braces included) is one record", async () => {
    const a = scope("{tag} with spaces");
    const b = { ...scope(a.key) };
    expect(await records().claim(a, "gen-fusion-a", "fp")).toEqual({ claimed: true });
    expect(await records().claim(b, "gen-fusion-b", "fp")).toEqual({ claimed: true });
    expect(recordKey(a)).toMatch(/^fusion:idempotency:\{owner-\d+-\d+:[0-9a-f]{64}\}$/);
  });

  it("concurrent claims of one key: exactly one wins, every other reads its fusion", async () => {
    const s = scope();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => records().claim(s, `gen-fusion-${i}`, "fp")),
    );
    const winners = results.flatMap((r, i) => (r.claimed ? [`gen-fusion-${i}`] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (!r.claimed) expect(r.record.fusionId).toBe(winners[0]);
  });

  it("an uncommitted claim lapses after its pending time", async () => {
    const s = scope();
    const short = new IdempotencyRecords(redis, { retentionMs: 60_000, pendingMs: 50 });
    await short.claim(s, "gen-fusion-a", "fp");
    for (let i = 0; i < 100 && (await redis.exists(recordKey(s))) === 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await short.claim(s, "gen-fusion-b", "fp")).toEqual({ claimed: true });
  });
});
