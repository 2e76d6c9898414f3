import { type RedisClusterFixture, type RedisFixture, startRedis, startRedisCluster } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../redis/keys.ts";
import { createRedis, createRedisFromEnv, type RedisClient, redisClusterNodesEnv } from "../redis/redis.ts";
import { OWNER_INDEX_CAP, ownerFusionIds, ownerIndexStart, recordOwnedFusion } from "./owner-index.ts";

/** The same index on a single Redis and on a Redis Cluster (where a fusion and its owner's index live in different slots). */
const targets: Array<[string, () => Promise<{ redis: RedisClient; close(): Promise<void> }>]> = [
  [
    "a single Redis",
    async () => {
      const fixture: RedisFixture = await startRedis();
      const redis = createRedis(fixture.url, "worker", "test-owner-index");
      const close = async () => {
        redis.disconnect();
        await fixture.close();
      };
      return { redis, close };
    },
  ],
  [
    "a Redis Cluster",
    async () => {
      const cluster: RedisClusterFixture = await startRedisCluster();
      const nodes = redisClusterNodesEnv().parse(cluster.nodesEnv);
      const redis = createRedisFromEnv(
        { REDIS_URL: "", REDIS_CLUSTER_NODES: nodes },
        "producer",
        "test-owner-index",
      );
      await new Promise<void>((resolve) => redis.once("ready", () => resolve()));
      const close = async () => {
        redis.disconnect();
        await cluster.close();
      };
      return { redis, close };
    },
  ],
];

describe.each(targets)("an owner's fusion index on %s", (_name, start) => {
  let target: Awaited<ReturnType<(typeof targets)[number][1]>>;
  let seq = 0;
  beforeAll(async () => {
    target = await start();
  }, 60_000);
  afterAll(() => target?.close());

  const owner = () => `owner-${process.pid}-${++seq}`;
  /** Records a fusion with a meta of its own, as the gateway does. */
  const record = (who: string, fusionId: string, createdMs: number, ttlSeconds = 600) =>
    recordOwnedFusion(target.redis, { owner: who, fusionId, createdMs, ttlSeconds }, (tx) =>
      tx
        .hset(keys.meta(fusionId), { owner: who, created: String(createdMs) })
        .expire(keys.meta(fusionId), ttlSeconds),
    );

  it("writes the fusion's records and its index entry; pages newest first, after a given fusion", async () => {
    const me = owner();
    const now = Date.now();
    for (let i = 0; i < 5; i++) await record(me, `${me}-f${i}`, now + i);
    expect(await target.redis.hget(keys.meta(`${me}-f0`), "owner")).toBe(me);

    expect(await ownerIndexStart(target.redis, me, undefined)).toBe(0);
    expect(await ownerFusionIds(target.redis, me, 0, 2)).toEqual([`${me}-f4`, `${me}-f3`]);
    const next = await ownerIndexStart(target.redis, me, `${me}-f3`);
    expect(next).toBe(2);
    expect(await ownerFusionIds(target.redis, me, next ?? 0, 10)).toEqual([
      `${me}-f2`,
      `${me}-f1`,
      `${me}-f0`,
    ]);
    // Another owner's fusion is no cursor here, and that owner's index holds none of these.
    const other = owner();
    await record(other, `${other}-f0`, now);
    expect(await ownerIndexStart(target.redis, me, `${other}-f0`)).toBeUndefined();
    expect(await ownerFusionIds(target.redis, other, 0, 10)).toEqual([`${other}-f0`]);
    expect(await target.redis.ttl(keys.ownerFusions(me))).toBeGreaterThan(590);
  });

  it("trims entries older than the fusions live, and keeps the newest OWNER_INDEX_CAP", async () => {
    const me = owner();
    const now = Date.now();
    await record(me, `${me}-old`, now - 700_000);
    await record(me, `${me}-new`, now);
    expect(await ownerFusionIds(target.redis, me, 0, 10)).toEqual([`${me}-new`]);

    const many = owner();
    const key = keys.ownerFusions(many);
    const members = Array.from({ length: OWNER_INDEX_CAP }, (_, i) => [now + i, `${many}-f${i}`]).flat();
    await target.redis.zadd(key, ...(members as Array<string | number>));
    await record(many, `${many}-last`, now + OWNER_INDEX_CAP);
    expect(await target.redis.zcard(key)).toBe(OWNER_INDEX_CAP);
    expect(await ownerFusionIds(target.redis, many, 0, 1)).toEqual([`${many}-last`]);
    expect(await target.redis.zscore(key, `${many}-f0`)).toBeNull();
  });
});
