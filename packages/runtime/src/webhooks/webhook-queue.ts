import type { JobsOptions } from "bullmq";
import { type WebhookRetryPolicy, webhookAttempts } from "./webhook-retry.ts";

/**
 * The queue of webhook deliveries, one in each queue shard (beside the fusion queues of
 * `job-catalog.ts`, but in no flow): a job per fusion, its id the fusion id. Consumed by judge-worker.
 */
export const WEBHOOK_QUEUE = "webhook";

/** The name of the backoff strategy the webhook workers define (capped exponential with jitter). */
const WEBHOOK_BACKOFF = "webhook";

/**
 * A delivery's job options: as many attempts as `policy` allows in its time (see `webhookAttempts`),
 * BullMQ retrying each failed one after the workers' `webhook` backoff. A finished job is kept an hour
 * (at most 1,000 per shard): a hand-over repeated meanwhile (`jobId` = fusion id) is then a no-op.
 */
export function webhookJobOptions(fusionId: string, policy: WebhookRetryPolicy): JobsOptions {
  return {
    jobId: fusionId,
    attempts: webhookAttempts(policy),
    backoff: { type: WEBHOOK_BACKOFF },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 24 * 3600, count: 1000 },
  };
}
