import { z } from "zod";
import { QUEUE_PREFIX } from "../jobs/job-catalog.ts";
import { hashTagSpan } from "../redis/hash-slot.ts";
import { envInt, envList } from "./common-env.ts";
import { queueShardsSchema, queueShardsServedSchema } from "./queue-shards-env.ts";

/**
 * The queue prefix must hold a Redis Cluster hash tag by Redis's own rule (the text between the first
 * `{` and the next `}`, not empty), so that one flow's keys share a slot.
 */
export const queuePrefixSchema = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = v?.trim() || QUEUE_PREFIX;
    if (!hashTagSpan(value)) {
      ctx.addIssue({ code: "custom", message: `must contain a hash tag such as {fusion}, got "${value}"` });
      return z.NEVER;
    }
    return value;
  });

export const workerEnvSchema = z.object({
  QUEUE_PREFIX: queuePrefixSchema,
  /** Queue sets under their own hash tags (see `queueShards`); the same in every service. */
  QUEUE_SHARDS: queueShardsSchema,
  /** The shards this worker takes jobs from ("0,2"); unset: every shard. */
  QUEUE_SHARDS_SERVED: queueShardsServedSchema,
  SEARXNG_URL: z.string().optional(),
  WEB_FETCH_ALLOW_HOSTS: envList(),
  WEB_FETCH_TIMEOUT_MS: envInt(15_000, 1),
  WEB_FETCH_MAX_CHARS: envInt(20_000, 100),
  /** Web searches and fetches running at once in one worker process; more wait for a slot. */
  WEB_TOOL_CONCURRENCY: envInt(16, 1, 10_000),
  /** Tool calls of one model turn that run; the others are answered with a tool error. */
  MAX_TOOL_CALLS_PER_TURN: envInt(8, 1, 1000),
  /** Tool calls one fusion runs in all, its panelists and judge together; beyond, a tool error. */
  MAX_TOOL_CALLS_PER_FUSION: envInt(100, 1, 100_000),
  /** Stalled-job detection: how long a job's lock lives without renewal, and how often stalls are checked. */
  // A job whose worker died is found within WORKER_LOCK_MS + WORKER_STALLED_INTERVAL_MS (12 s by default,
  // not BullMQ's 60 s) and run again by another worker; a live worker renews its locks every WORKER_LOCK_MS / 2.
  WORKER_LOCK_MS: envInt(8_000, 1000),
  WORKER_STALLED_INTERVAL_MS: envInt(4_000, 500),
  WORKER_SHUTDOWN_GRACE_MS: envInt(30_000, 0),
  /** Port of the worker's /metrics, /healthz and /readyz server; 0 turns it off. The judge worker defaults to 9465. */
  METRICS_PORT: envInt(9464, 0, 65_535),
  /** Address of that server: loopback unless set (compose sets 0.0.0.0 for Prometheus in its network). */
  METRICS_HOST: z.string().default("127.0.0.1"),
});
