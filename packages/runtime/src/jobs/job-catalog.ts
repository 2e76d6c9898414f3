import { chatMessageSchema, fusionSettingsSchema } from "@fusion/wire";
import { type JobsOptions, UnrecoverableError } from "bullmq";
import { z } from "zod";

/**
 * The one catalog of queues and jobs. Every queue of a fusion flow shares the hash-tagged prefix so
 * that a flow's keys land in one Redis Cluster slot.
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

const requestContext = {
  fusionId: z.string(),
  requestId: z.string(),
  /** Write progress events to the fusion's stream (only a streaming client reads them). */
  emitProgress: z.boolean().default(false),
};

export const panelJobSchema = z.object({
  ...requestContext,
  index: z.number().int().min(0),
  model: z.string(),
  messages: z.array(chatMessageSchema),
  settings: fusionSettingsSchema,
});
export type PanelJobData = z.infer<typeof panelJobSchema>;

export const judgeJobSchema = z.object({
  ...requestContext,
  messages: z.array(chatMessageSchema),
  settings: fusionSettingsSchema,
  /** Panel job ids in panel order, so that failures can be named by model. */
  panel: z.array(z.object({ jobId: z.string(), model: z.string() })),
});
export type JudgeJobData = z.infer<typeof judgeJobSchema>;

export const turnJobSchema = z.object({
  ...requestContext,
  /** `forced`: the fusion runs without asking the model (alias, tool_choice). `offered`: the model decides. */
  mode: z.enum(["forced", "offered"]),
  stream: z.boolean(),
  includeUsage: z.boolean(),
  /** The model that decides and writes the final answer. */
  writerModel: z.string(),
  /** The caller's request for the writer model: messages, its own tools and pass-through parameters. */
  body: z.record(z.string(), z.unknown()),
  settings: fusionSettingsSchema,
  createdAt: z.number(),
  /** Progress of the turn, kept in the job so that a retried or resumed job continues where it was. */
  step: z.enum(["decide", "await-fusion", "done"]).default("decide"),
  decision: z
    .object({
      assistant: chatMessageSchema,
      fusionCallId: z.string(),
      question: z.string().optional(),
      usage: z.record(z.string(), z.unknown()),
      extraCallIds: z.array(z.string()).default([]),
    })
    .optional(),
});
export type TurnJobData = z.infer<typeof turnJobSchema>;
export type TurnJobInput = z.input<typeof turnJobSchema>;

export interface RetentionOptions {
  completedAgeSeconds: number;
  failedAgeSeconds: number;
}

export const defaultRetention: RetentionOptions = { completedAgeSeconds: 3600, failedAgeSeconds: 24 * 3600 };

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
