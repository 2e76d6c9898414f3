import { z } from "zod";
import { QUEUE_PREFIX } from "../jobs/job-catalog.ts";
import { hashTagSpan } from "../redis/hash-slot.ts";
import { envInt, envList, envUrl } from "./common-env.ts";
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

const WEB_SEARCH_PROVIDERS = ["searxng", "brave", "tavily", "exa", "openrouter", "none"] as const;

export const workerEnvSchema = z.object({
  QUEUE_PREFIX: queuePrefixSchema,
  /** Queue sets under their own hash tags (see `queueShards`); the same in every service. */
  QUEUE_SHARDS: queueShardsSchema,
  /** The shards this worker takes jobs from ("0,2"); unset: every shard. */
  QUEUE_SHARDS_SERVED: queueShardsServedSchema,
  /**
   * Where web_search runs: searxng, brave, tavily, exa, openrouter (the upstream's own search), or none.
   * Unset: searxng when SEARXNG_URL is set, else openrouter when the upstream is OpenRouter, else none.
   * The web tools check the combination at start-up (`searchOptionsFromEnv` of web-tools).
   */
  WEB_SEARCH_PROVIDER: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v?.trim().toLowerCase();
      if (!value) return undefined;
      const match = WEB_SEARCH_PROVIDERS.find((allowed) => allowed === value);
      if (match === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `must be one of ${WEB_SEARCH_PROVIDERS.join(", ")}, got "${value}"`,
        });
        return z.NEVER;
      }
      return match;
    }),
  /** The key of brave, tavily or exa. */
  WEB_SEARCH_API_KEY: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
  /** Base URL of the search API instead of the provider's public one (proxies, tests). */
  WEB_SEARCH_URL: envUrl(),
  /** A SearXNG instance (`/search?q=…&format=json`). */
  SEARXNG_URL: envUrl(),
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
  // A live worker renews its jobs' locks every WORKER_LOCK_MS / 4 to / 2, from its event loop: a loop
  // that is late by more than about WORKER_LOCK_MS / 2 (a process saturated with thousands of jobs) lets
  // locks lapse, and the stall check then runs jobs that are still running a second time, or fails them
  // past WORKER_MAX_STALLED_COUNT. 30 s rides out loops late by 15 s; a job whose worker died is run again
  // by another worker within WORKER_LOCK_MS + 2 × WORKER_STALLED_INTERVAL_MS (about 40 s, at most 50).
  WORKER_LOCK_MS: envInt(30_000, 1000),
  WORKER_STALLED_INTERVAL_MS: envInt(10_000, 500),
  /** Times a job may be found stalled and run again; one more fails it (a job that kills its worker). */
  WORKER_MAX_STALLED_COUNT: envInt(2, 0, 100),
  /** Job slots of one BullMQ worker loop; a queue's larger concurrency is split over several (`splitWorkerSlots`). */
  WORKER_SLOTS_PER_LOOP: envInt(256, 1, 100_000),
  WORKER_SHUTDOWN_GRACE_MS: envInt(30_000, 0),
  /** Port of the worker's /metrics, /healthz and /readyz server; 0 turns it off. The judge worker defaults to 9465. */
  METRICS_PORT: envInt(9464, 0, 65_535),
  /** Address of that server: loopback unless set (compose sets 0.0.0.0 for Prometheus in its network). */
  METRICS_HOST: z.string().default("127.0.0.1"),
});
