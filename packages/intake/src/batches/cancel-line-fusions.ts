import { cancelAndEndFusion, cancelFusion, type QueueShard, type RedisClient } from "@fusion/runtime";
import { readMeta } from "../fusion/fusion-meta.ts";
import { lineFusionId } from "./batch-ids.ts";

/**
 * Cancels the fusions of a batch's running lines (a batch cancelled or expired) and ends their streams
 * at once: a line that is still waiting for its fusion then reads the cancellation (its answer, unless
 * the line was answered before). A fusion not yet enqueued is only marked cancelled, so its jobs never run.
 */
export async function cancelLineFusions(
  redis: RedisClient,
  shards: readonly QueueShard[],
  batchId: string,
  indexes: readonly number[],
  streamTtlSeconds: number,
): Promise<void> {
  await Promise.all(
    indexes.map(async (index) => {
      const fusionId = lineFusionId(shards, batchId, index);
      const meta = await readMeta(redis, fusionId);
      if (!meta) return cancelFusion(redis, fusionId);
      await cancelAndEndFusion(redis, fusionId, {
        created: Math.floor(meta.created / 1000),
        model: meta.model,
        streamTtlSeconds,
      });
    }),
  );
}
