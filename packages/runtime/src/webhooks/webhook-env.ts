import { z } from "zod";
import { envInt, envList } from "../env/common-env.ts";

/** The shape of a Standard Webhooks secret: `whsec_` and the base64 of at least 16 random bytes. */
const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const MIN_SECRET_BYTES = 16;

/**
 * `WEBHOOK_SECRET`: the key every webhook is signed with. Unset or empty: no webhook can be sent. A
 * wrong one is refused at start-up with a message that never repeats the value.
 */
const webhookSecret = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = v?.trim();
    if (!value) return undefined;
    const bytes = SECRET_PATTERN.test(value) ? Buffer.from(value.slice(6), "base64").length : 0;
    if (bytes < MIN_SECRET_BYTES) {
      ctx.addIssue({
        code: "custom",
        message: `must be "whsec_" followed by the base64 of at least ${MIN_SECRET_BYTES} random bytes (the value is not shown)`,
      });
      return z.NEVER;
    }
    return value;
  });

/** Webhook settings the gateway (which checks each callback URL) and the judge worker (which sends) share. */
const webhookCommonEnv = {
  WEBHOOK_SECRET: webhookSecret,
  /**
   * Hosts (`host` or `host:port`) a webhook may reach although they are IP literals or resolve to
   * non-public addresses: internal receivers. Same rules as WEB_FETCH_ALLOW_HOSTS.
   */
  WEBHOOK_ALLOW_HOSTS: envList(),
};

/** The gateway's webhook settings. */
export const webhookGatewayEnv = {
  ...webhookCommonEnv,
  /**
   * The callback of every fusion whose request names none (`"fusion": {"webhook": {"url": ...}}`);
   * a request turns it off with `"webhook": false` (or null). Needs WEBHOOK_SECRET.
   */
  WEBHOOK_URL: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
};

/** The judge worker's webhook settings: delivery, retries, hand-over. */
export const webhookWorkerEnv = {
  ...webhookCommonEnv,
  /** Deliveries in flight at once per judge worker process and queue shard. */
  WEBHOOK_CONCURRENCY: envInt(16, 1, 10_000),
  /** How long a webhook is retried after its first attempt, at most: 24 h (a receiver down for a night still gets it). */
  WEBHOOK_RETRY_FOR_MS: envInt(24 * 3600 * 1000, 0),
  /** The delay before the first retry; each next one doubles, up to WEBHOOK_RETRY_MAX_DELAY_MS. */
  WEBHOOK_RETRY_BASE_MS: envInt(5_000, 1),
  WEBHOOK_RETRY_MAX_DELAY_MS: envInt(3600 * 1000, 1),
  /** How often the outbox of each queue shard is read for fusions that ended with a webhook to send. */
  WEBHOOK_DISPATCH_INTERVAL_MS: envInt(1_000, 50),
};
