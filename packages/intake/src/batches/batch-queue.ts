import type { JobsOptions } from "bullmq";
import { z } from "zod";

/**
 * The Batch API's queues, in each queue shard beside the fusion queues (a batch, its lines and their
 * fusions all live in the batch's shard: a line job is its batch job's child, a fusion's turn job its
 * line job's child). `batch` and `batch-line` are consumed by judge-worker, `batch-expiry` by the gateway.
 */
export const batchQueueNames = {
  /** One job per batch: starts its lanes (its first line jobs), waits for its line jobs as its children, then finalizes. */
  batch: "batch",
  /** One job per request line, added when a lane reaches it: proxied, or run as a fusion. */
  line: "batch-line",
  /** One delayed job per batch, due at its `expires_at`: ends the batch as expired if it has not ended. */
  expiry: "batch-expiry",
} as const;

export const batchJobSchema = z.object({
  batchId: z.string(),
  owner: z.string(),
  fileId: z.string(),
  /** `split`: start its lanes; `finalize`: write the output and error files. Kept in the job across runs. */
  step: z.enum(["split", "finalize"]).default("split"),
});
export type BatchJobData = z.infer<typeof batchJobSchema>;

export const lineJobSchema = z.object({
  batchId: z.string(),
  owner: z.string(),
  fileId: z.string(),
  /** The line's index: its place in the input file is read from the batch's `LinePlaces`. */
  index: z.number().int().min(0),
  /** `start`: not yet run; `started`: its fusion is enqueued (a rerun waits for it, never starts it again). */
  step: z.enum(["start", "started"]).default("start"),
  /** How often it has waited for a background permit (each wait longer than the last). */
  permitWaits: z.number().int().min(0).default(0),
});
export type LineJobData = z.infer<typeof lineJobSchema>;

/** A batch's expiry job: what `finalizeBatch` needs. */
export const expiryJobSchema = batchJobSchema.pick({ batchId: true, owner: true, fileId: true });
export type ExpiryJobData = z.infer<typeof expiryJobSchema>;

export const batchJobIds = {
  batch: (batchId: string) => batchId,
  expiry: (batchId: string) => `${batchId}-expiry`,
  line: (batchId: string, index: number) => `${batchId}-line-${index}`,
};

/** Lines handled per round trip (their places written at a split, their answers read at finalization). */
export const LINE_CHUNK = 500;

/** A batch job: retried (a split or finalization run again adds and writes nothing twice). */
export const batchJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
};

/**
 * A batch's expiry job, added with the batch and delayed to its `expires_at`: retried (its finalization
 * is safe to run again); kept in Redis while it waits, so it outlives restarts of every process.
 */
export const expiryJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
};

/**
 * A line job: retried for what may pass (an upstream unreachable); one failing for good does not hold
 * up its batch (the batch answers it as failed). Done, it is removed: its answer is in the batch.
 */
export const lineJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600, count: 10_000 },
  ignoreDependencyOnFailure: true,
};
