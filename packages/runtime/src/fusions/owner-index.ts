import { type ChainableCommander, Cluster } from "ioredis";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";

/**
 * Most fusions one owner's index keeps: its newest. An older fusion drops out of the listing (it can
 * still be read by its id while it is retained).
 */
export const OWNER_INDEX_CAP = 1000;

/** A fusion to index under the API key that started it. */
export interface OwnedFusion {
  owner: string;
  fusionId: string;
  /** When it was created (epoch ms): its score, so the index reads newest first. */
  createdMs: number;
  /** How long the fusion's own records live (its meta): older entries are trimmed as expired. */
  ttlSeconds: number;
}

/**
 * Queues on `tx` what indexes `fusion` under its owner: the entry, the trim of entries older than the
 * fusion's records live and of all but the newest `OWNER_INDEX_CAP`, and the index's own expiry (an
 * owner who stops starting fusions leaves nothing behind).
 */
function indexFusion(tx: ChainableCommander, fusion: OwnedFusion): ChainableCommander {
  const key = keys.ownerFusions(fusion.owner);
  const expiredBefore = fusion.createdMs - fusion.ttlSeconds * 1000;
  return tx
    .zadd(key, fusion.createdMs, fusion.fusionId)
    .zremrangebyscore(key, "-inf", `(${expiredBefore}`)
    .zremrangebyrank(key, 0, -(OWNER_INDEX_CAP + 1))
    .expire(key, fusion.ttlSeconds);
}

/** Runs a transaction; rejects with the first command's error (EXEC answers them one by one). */
async function run(tx: ChainableCommander): Promise<void> {
  for (const [err] of (await tx.exec()) ?? []) if (err) throw err;
}

/**
 * Writes a fusion's records (`record` queues the commands on its own keys) together with its entry in
 * its owner's index: one transaction, one round trip, on a single Redis; on a Cluster, where the two
 * live in different slots, two transactions sent at once.
 */
export async function recordOwnedFusion(
  redis: RedisClient,
  fusion: OwnedFusion,
  record: (tx: ChainableCommander) => ChainableCommander,
): Promise<void> {
  if (redis instanceof Cluster) {
    await Promise.all([run(record(redis.multi())), run(indexFusion(redis.multi(), fusion))]);
    return;
  }
  await run(indexFusion(record(redis.multi()), fusion));
}

/**
 * Where a page of `owner`'s fusions starts: 0 (the newest), or just after the fusion `after`;
 * undefined when `after` is not in the index (another key's, unknown, or trimmed).
 */
export async function ownerIndexStart(
  redis: RedisClient,
  owner: string,
  after: string | undefined,
): Promise<number | undefined> {
  if (after === undefined) return 0;
  const rank = await redis.zrevrank(keys.ownerFusions(owner), after);
  return rank === null ? undefined : rank + 1;
}

/** Up to `count` fusion ids of `owner`'s index from position `start`, newest first. */
export function ownerFusionIds(
  redis: RedisClient,
  owner: string,
  start: number,
  count: number,
): Promise<string[]> {
  return redis.zrevrange(keys.ownerFusions(owner), start, start + count - 1);
}
