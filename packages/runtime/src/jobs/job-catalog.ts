import { type JobsOptions, UnrecoverableError } from "bullmq";
import type { z } from "zod";

/**
 * The one catalog of queues and jobs. Every queue of a fusion flow shares the hash-tagged prefix so
 * that a flow's keys land in one Redis Cluster slot. The schemas of the jobs' data are the wire's
 * (`panelJobSchema`, `judgeJobSchema`, `turnJobSchema`); a worker parses its job's data with
 * `parseJobData` before it works.
 */
export const QUEUE_PREFIX = "{fusion}";

export const queueNames = {
  /** One job per panel model: its tool loop. Consumed by panel-worker. */
  panel: "panel",
  /** The judge: compares the panel's answers. Consumed by judge-worker. */
  judge: "judge",
  /** The calling model's turn: decide, wait for the panel and judge, write the final answer. Consumed by judge-worker. */
  turn: "turn",
} as const;
export type QueueName = (typeof queueNames)[keyof typeof queueNames];

export interface RetentionOptions {
  completedAgeSeconds: number;
  failedAgeSeconds: number;
}

const defaultRetention: RetentionOptions = { completedAgeSeconds: 3600, failedAgeSeconds: 24 * 3600 };

/**
 * Job options per queue. Panel and judge jobs are removed as soon as they complete: their return
 * values live on in their parent's processed hash, which is all the pipeline reads. A turn job (the
 * record of a fusion) and any failed job stay for the retention period, at most 1,000 of each per
 * queue, so Redis stays bounded however many fusions run. Panel and judge jobs do not retry at the
 * queue level (their upstream calls retry); a job whose worker died is run again by stall recovery.
 */
export function jobOptions(queue: QueueName, retention: RetentionOptions = defaultRetention): JobsOptions {
  const removeOnFail = { age: retention.failedAgeSeconds, count: 1000 };
  switch (queue) {
    case queueNames.panel:
      return { removeOnComplete: true, removeOnFail, attempts: 1, ignoreDependencyOnFailure: true };
    case queueNames.judge:
      return {
        removeOnComplete: true,
        removeOnFail,
        attempts: 2,
        backoff: { type: "exponential", delay: 500 },
        ignoreDependencyOnFailure: true,
      };
    case queueNames.turn:
      return {
        removeOnComplete: { age: retention.completedAgeSeconds, count: 1000 },
        removeOnFail,
        attempts: 2,
        backoff: { type: "exponential", delay: 500 },
      };
  }
}

/**
 * The BullMQ priority of a background fusion's jobs (an async request, a batch's line) in every queue
 * it touches. Interactive jobs carry none: a worker takes a queue's jobs without a priority (its wait
 * list, O(1)) before any prioritized one (a sorted set, O(log n)), so interactive work is served
 * first and pays nothing for it, and background jobs run in the order they came among themselves.
 */
export const BACKGROUND_PRIORITY = 100;

/** The priority option of a fusion's job: none for interactive work, `BACKGROUND_PRIORITY` for background. */
export function fusionPriority(background: boolean | undefined): Pick<JobsOptions, "priority"> {
  return background ? { priority: BACKGROUND_PRIORITY } : {};
}

export const jobIds = {
  turn: (fusionId: string) => fusionId,
  judge: (fusionId: string) => `${fusionId}-judge`,
  panel: (fusionId: string, index: number) => `${fusionId}-panel-${index}`,
};

/** A job's data, checked against its catalog schema; bad data is not retried (it would fail again). */
export function parseJobData<S extends z.ZodType>(schema: S, data: unknown, kind: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${kind} job data: ${parsed.error.message}`);
  return parsed.data;
}
