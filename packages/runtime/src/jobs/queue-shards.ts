import { CLUSTER_SLOTS, hashSlot, hashTagSpan } from "../redis/hash-slot.ts";
import { keys } from "../redis/keys.ts";

/** Most queue shards a deployment may run (`QUEUE_SHARDS`). */
export const MAX_QUEUE_SHARDS = 64;

/**
 * One set of the fusion queues (turn, judge, panel) under its own hash tag: on Redis Cluster all of a
 * shard's BullMQ keys sit in one slot, and different shards can sit on different masters.
 */
export interface QueueShard {
  /** 0 to `QUEUE_SHARDS` - 1. */
  index: number;
  /** The BullMQ prefix of the shard's queues (shard 0's is `QUEUE_PREFIX` itself). */
  prefix: string;
  /** The cluster slot of every key of the shard's queues. */
  slot: number;
  /** The part of the slot space the shard stands for: the slots s with floor(s · count / 16384) = range. */
  range: number;
}

/** Which of `count` equal parts of the slot space holds `slot`: floor(slot · count / 16384). */
export function slotRange(slot: number, count: number): number {
  return Math.floor((slot * count) / CLUSTER_SLOTS);
}

/**
 * The queue shards of a deployment, from its `QUEUE_PREFIX` and `QUEUE_SHARDS`, the same in every
 * process. Shard 0 keeps the prefix itself, so one shard is exactly the unsharded layout, and going
 * from one shard to several leaves the jobs already queued in shard 0. It stands for the part of the
 * slot space (1/count of it) that holds the prefix's slot. Every other shard takes one of the remaining
 * parts in order, with the prefix's hash tag followed by `-k`: the first k (0, 1, 2, ...) whose slot lies
 * in the middle half of that part. A cluster's default allocation (`redis-cli --cluster create`, or
 * slots shared evenly between `count` masters or a divisor of it) gives each master an equal run of
 * slots, so the shards land on different masters, well clear of any off-by-one at the parts' edges.
 */
export function queueShards(basePrefix: string, count: number): QueueShard[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_QUEUE_SHARDS)
    throw new RangeError(`queue shards must be a whole number from 1 to ${MAX_QUEUE_SHARDS}, got ${count}`);
  const span = hashTagSpan(basePrefix);
  if (!span)
    throw new RangeError(`the queue prefix must contain a hash tag such as {fusion}, got "${basePrefix}"`);
  const baseSlot = hashSlot(basePrefix);
  const first: QueueShard = {
    index: 0,
    prefix: basePrefix,
    slot: baseSlot,
    range: slotRange(baseSlot, count),
  };
  const shards = [first];
  const tag = basePrefix.slice(span.start, span.end);
  const withTag = (t: string) => `${basePrefix.slice(0, span.start)}${t}${basePrefix.slice(span.end)}`;
  for (let range = 0; range < count; range++) {
    if (range === first.range) continue;
    for (let k = 0; ; k++) {
      const prefix = withTag(`${tag}-${k}`);
      const slot = hashSlot(prefix);
      const position = (slot * count) / CLUSTER_SLOTS - range;
      if (position >= 0.25 && position < 0.75) {
        shards.push({ index: shards.length, prefix, slot, range });
        break;
      }
    }
  }
  return shards;
}

/**
 * The shard of a fusion: the one standing for the part of the slot space that holds the slot of the
 * fusion's own keys (its stream, meta, ...). It depends on the fusion id alone, so any gateway or
 * worker finds a fusion's jobs again without a lookup; ids are random, so fusions spread evenly over
 * the shards; and on an evenly allocated cluster a fusion's jobs sit on the master of its stream.
 */
export function shardOfFusion<S extends QueueShard>(shards: readonly S[], fusionId: string): S {
  const range = slotRange(hashSlot(keys.events(fusionId)), shards.length);
  const shard = shards.find((s) => s.range === range);
  if (!shard) throw new RangeError(`no queue shard for slot range ${range} of ${shards.length}`);
  return shard;
}

/** The shards a worker serves: those `served` lists (by index), or every one when it lists none. */
export function servedShards(
  shards: readonly QueueShard[],
  served: readonly number[] | undefined,
): QueueShard[] {
  if (served === undefined || served.length === 0) return [...shards];
  return served.map((index) => {
    const shard = shards[index];
    if (!shard)
      throw new RangeError(
        `shard ${index} does not exist: there are ${shards.length} (0 to ${shards.length - 1})`,
      );
    return shard;
  });
}
