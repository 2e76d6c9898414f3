import { batchWorkerEnv } from "@fusion/intake";
import { envBoolean, envInt, type WorkerRuntimeEnv, webhookWorkerEnv } from "@fusion/runtime";
import { z } from "zod";

export const judgeEnvSchema = z.object({
  JUDGE_CONCURRENCY: envInt(64, 1, 10_000),
  TURN_CONCURRENCY: envInt(256, 1, 10_000),
  /** The judge's deadline: a judge still working then leaves the result without analysis. */
  JUDGE_TIMEOUT_MS: envInt(120_000, 1),
  /**
   * Ask the judge for structured output as its provider supports it (`response_format`: json_schema, or
   * json_object where it has JSON mode only); false: by the prompt alone, whatever the provider.
   */
  JUDGE_STRUCTURED_OUTPUT: envBoolean(true),
  /** Its own default, so that a panel worker (9464) and a judge worker can run on one host. */
  METRICS_PORT: envInt(9465, 0, 65_535),
  /** Webhook deliveries: signing, retries, the outbox's hand-over (runtime `webhooks/webhook-env.ts`). */
  ...webhookWorkerEnv,
  /** The Batch API: storage bounds, line concurrency, the per-key cap on background fusions. */
  ...batchWorkerEnv,
});

/** The judge worker's whole environment: the workers' shared settings and its own. */
export type JudgeWorkerEnv = WorkerRuntimeEnv & z.infer<typeof judgeEnvSchema>;
