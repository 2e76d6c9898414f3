import type { QueueShard, RedisClient } from "@fusion/runtime";
import type { BatchStatus } from "./batch-object.ts";
import type { ExpiryJobData } from "./batch-queue.ts";
import { cancelLineFusions } from "./cancel-line-fusions.ts";
import type { BatchStores } from "./delete-file.ts";
import { finalizeBatch } from "./finalize-batch.ts";

export interface ExpiryContext extends BatchStores {
  redis: RedisClient;
  /** Every queue shard of the deployment (a line's fusion id is chosen in its batch's shard). */
  shards: readonly QueueShard[];
  /** STREAM_RETENTION_SECONDS: how long a cancelled fusion's stream is kept. */
  streamTtlSeconds: number;
}

/** What an expiry job found: the batch's status after it, or the time it is due (it ran early). */
export type ExpiryOutcome = { status: BatchStatus | "gone" } | { dueAt: number };

const ended = new Set<string>(["completed", "failed", "expired", "cancelled"]);

/**
 * A batch's window is over: if it has not ended, it ends now, whether or not any worker ever picked up
 * its lines. Lines answered stay as they are; every other line is answered `batch_expired` (or
 * `batch_cancelled`, for a batch being cancelled), the output and error files are written, and the
 * batch is `expired` (see `finalizeBatch`, whose runs may race this one safely). The fusions of lines
 * still running are then cancelled: their lines' later answers are dropped, each line being answered once.
 */
export async function expireBatch(context: ExpiryContext, data: ExpiryJobData): Promise<ExpiryOutcome> {
  const { batches } = context;
  const record = await batches.record(data.batchId);
  if (!record) return { status: "gone" };
  if (ended.has(record.status ?? "")) return { status: record.status as BatchStatus };
  const dueAt = Number(record.expires_at) * 1000;
  if (Date.now() < dueAt) return { dueAt };
  // Read before the batch ends: answering a line takes it out of the running set.
  const running = await batches.running(data.batchId);
  const status = await finalizeBatch(context, data);
  await cancelLineFusions(context.redis, context.shards, data.batchId, running, context.streamTtlSeconds);
  return { status };
}
