import {
  type Logger,
  type RedisClient,
  recordWebhookAttempt,
  recordWebhookDelivery,
  type WebhookAttempt,
} from "@fusion/runtime";
import { postWebhook, WebhookUrlError } from "@fusion/web-tools";
import { type WebhookJobData, webhookJobSchema } from "@fusion/wire";
import { type Job, UnrecoverableError } from "bullmq";
import { webhookSigner } from "./webhook-signature.ts";

/** Time for one delivery attempt, connect to the answer's first bytes. */
const WEBHOOK_TIMEOUT_MS = 10_000;

export interface WebhookDeliveryDeps {
  redis: RedisClient;
  logger: Logger;
  /** WEBHOOK_SECRET (`whsec_...`); undefined: nothing can be signed, so nothing is sent. */
  secret: string | undefined;
  allowHosts: readonly string[];
  timeoutMs?: number;
}

/**
 * 410 Gone: the receiver says this endpoint is no more, so retrying is pointless. Every other status
 * outside 2xx (3xx included: redirects are not followed) and every error is a failed attempt to retry.
 */
const GONE = 410;

/**
 * The processor of the `webhook` queue: signs the job's body as Standard Webhooks say (`webhook-id` =
 * the fusion id, the same on every attempt; `webhook-timestamp` = now; `webhook-signature` =
 * `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`), POSTs it, records the attempt in the
 * fusion's records, and throws when it failed so that BullMQ retries it after the `webhook` backoff;
 * the last attempt, a 410 or a URL that is now refused record `failed` and stop (UnrecoverableError).
 */
export function createWebhookProcessor(deps: WebhookDeliveryDeps) {
  const sign = deps.secret ? webhookSigner(deps.secret) : undefined;
  return async (job: Job<WebhookJobData>): Promise<void> => {
    const parsed = webhookJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid webhook job data: ${parsed.error.message}`);
    const { fusionId, url, payload } = parsed.data;
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const started = Date.now();
    const attempt = (result: { status: number } | { error: string }): WebhookAttempt => ({
      at: new Date(started).toISOString(),
      ...result,
      duration_ms: Date.now() - started,
    });

    if (!sign) {
      await finish(fusionId, attempt({ error: "no WEBHOOK_SECRET is configured" }), "failed");
      throw new UnrecoverableError("no WEBHOOK_SECRET is configured: the webhook cannot be signed");
    }
    const headers = { ...sign(fusionId, new Date(started), payload) };
    let status: number;
    try {
      status = await postWebhook(url, payload, headers, {
        allowHosts: deps.allowHosts,
        timeoutMs: deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
      });
    } catch (err) {
      const message = (err as Error).message;
      const cause = (err as Error).cause;
      const refused = cause instanceof WebhookUrlError && cause.kind === "refused";
      const final = last || refused;
      await finish(fusionId, attempt({ error: message }), final ? "failed" : undefined);
      if (final) throw new UnrecoverableError(`webhook not delivered: ${message}`);
      throw new Error(`webhook attempt failed: ${message}`);
    }
    if (status >= 200 && status < 300) {
      await finish(fusionId, attempt({ status }), "delivered");
      return;
    }
    const final = last || status === GONE;
    await finish(fusionId, attempt({ status }), final ? "failed" : undefined);
    if (final) throw new UnrecoverableError(`webhook not delivered: HTTP ${status}`);
    throw new Error(`webhook attempt failed: HTTP ${status}`);
  };

  /** Records the attempt and counts it; a record that cannot be written is logged, never retried for. */
  async function finish(
    fusionId: string,
    attempt: WebhookAttempt,
    state: "delivered" | "failed" | undefined,
  ): Promise<void> {
    recordWebhookDelivery(state ?? "retrying");
    await recordWebhookAttempt(deps.redis, fusionId, attempt, state).catch((err: unknown) =>
      deps.logger.warn({ err, fusionId }, "could not record a webhook attempt"),
    );
    deps.logger.info({ fusionId, ...attempt, state: state ?? "retrying" }, "webhook attempt");
  }
}
