import {
  createWorker,
  retryDelayMs,
  WEBHOOK_QUEUE,
  WebhookDispatcher,
  type WebhookRetryPolicy,
  type WorkerRuntime,
} from "@fusion/runtime";
import type { WebhookJobData } from "@fusion/wire";
import type { Worker } from "bullmq";
import type { JudgeWorkerEnv } from "../env.ts";
import { createWebhookProcessor } from "./deliver-webhook.ts";

/**
 * The judge worker's part in webhooks: the dispatcher that hands due webhooks from each served shard's
 * outbox to its `webhook` queue, and the workers that deliver them (WEBHOOK_CONCURRENCY per shard),
 * BullMQ retrying each failed attempt after the capped, jittered exponential backoff of the policy.
 */
export function startWebhooks(runtime: WorkerRuntime<JudgeWorkerEnv>): {
  workers: Worker<WebhookJobData, void>[];
  dispatcher: WebhookDispatcher;
} {
  const { env } = runtime;
  const policy: WebhookRetryPolicy = {
    baseMs: env.WEBHOOK_RETRY_BASE_MS,
    maxDelayMs: env.WEBHOOK_RETRY_MAX_DELAY_MS,
    retryForMs: env.WEBHOOK_RETRY_FOR_MS,
  };
  const processor = createWebhookProcessor({
    redis: runtime.redis,
    logger: runtime.logger,
    secret: env.WEBHOOK_SECRET,
    allowHosts: env.WEBHOOK_ALLOW_HOSTS,
  });
  const workers = createWorker(runtime, WEBHOOK_QUEUE, processor, {
    concurrency: env.WEBHOOK_CONCURRENCY,
    // BullMQ passes the attempts made so far: 1 before the first retry.
    settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade, policy) },
  });
  const dispatcher = new WebhookDispatcher({
    redis: runtime.redis,
    shards: runtime.shards,
    logger: runtime.logger,
    policy,
    intervalMs: env.WEBHOOK_DISPATCH_INTERVAL_MS,
  });
  dispatcher.start();
  return { workers, dispatcher };
}
