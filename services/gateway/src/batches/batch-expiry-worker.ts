import {
  BatchStore,
  batchQueueNames,
  type ExpiryJobData,
  expireBatch,
  expiryJobSchema,
  FileStore,
} from "@fusion/intake";
import { bullmqTelemetry, createRedisFromEnv, parseJobData } from "@fusion/runtime";
import { DelayedError, type Job, Worker } from "bullmq";
import type { GatewayDeps } from "../deps.ts";

/** Expiry jobs one gateway runs at once per queue shard: each is short (a status, the unanswered lines, two files). */
const EXPIRY_CONCURRENCY = 2;

/**
 * The gateway's `batch-expiry` workers, one per queue shard: each batch's expiry job, due at its
 * `expires_at`, ends the batch as expired if it has not ended (`expireBatch`). They run in the gateway,
 * not the judge worker, so that a batch expires on time while no judge worker runs at all: a batch can
 * be read only while a gateway runs, and every gateway takes these jobs. They use their own connection,
 * which waits for Redis when it is away (the job is run again; it is safe to).
 */
export function startBatchExpiry(deps: GatewayDeps): { close(): Promise<void> } {
  const { env, logger } = deps;
  const connection = createRedisFromEnv(env, "worker", "fusion:gateway:batch-expiry");
  connection.on("error", (err) =>
    logger.warn({ err: err.message, connection: "batch-expiry" }, "redis connection error"),
  );
  const storage = { retentionSeconds: env.BATCH_RETENTION_SECONDS };
  const context = {
    redis: connection,
    shards: deps.shards,
    streamTtlSeconds: env.STREAM_RETENTION_SECONDS,
    batches: new BatchStore(connection, { ...storage, maxBatchesPerOwner: env.BATCH_MAX_BATCHES_PER_KEY }),
    files: new FileStore(connection, { ...storage, maxFilesPerOwner: env.BATCH_MAX_FILES_PER_KEY }),
  };
  const processor = async (job: Job<ExpiryJobData>, token?: string): Promise<string> => {
    const data = parseJobData(expiryJobSchema, job.data, "batch expiry");
    const outcome = await expireBatch(context, data);
    if ("dueAt" in outcome) {
      // Run before its time (a clock ahead of another): wait until the batch's own expires_at.
      await job.moveToDelayed(outcome.dueAt, token);
      throw new DelayedError();
    }
    logger.info({ batchId: data.batchId, status: outcome.status }, "batch window over");
    return outcome.status;
  };
  const workers = deps.shards.map((shard) => {
    const worker = new Worker(batchQueueNames.expiry, processor, {
      connection,
      prefix: shard.prefix,
      concurrency: EXPIRY_CONCURRENCY,
      ...bullmqTelemetry(),
    });
    worker.on("error", (err) => logger.error({ err, queue: batchQueueNames.expiry }, "worker error"));
    worker.on("failed", (job, err) =>
      logger.warn({ queue: batchQueueNames.expiry, jobId: job?.id, err: err.message }, "job failed"),
    );
    return worker;
  });
  return {
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      connection.disconnect();
    },
  };
}
