import { keys } from "../redis/keys.ts";
import { LuaScript } from "../redis/lua-script.ts";
import type { RedisClient } from "../redis/redis.ts";

/**
 * A fusion's webhook as its meta records it: the URL (hash field `webhook`, written by the gateway)
 * and its state (`webhook_state`): absent while the fusion runs, `due` once its terminal entry is
 * written (by append-events.lua or cancel-fusion.lua, in the same step), then `delivered` or `failed`.
 */
export const WEBHOOK_FIELDS = { url: "webhook", state: "webhook_state" } as const;

/** Attempts kept per fusion: the last ones. */
export const WEBHOOK_ATTEMPTS_KEPT = 20;

/** One delivery attempt: when it started, its HTTP status or why it had none, how long it took. */
export interface WebhookAttempt {
  at: string;
  status?: number;
  error?: string;
  duration_ms: number;
}

/** What `GET /fusions/{id}` shows of a fusion's webhook (never the secret, never the signature). */
export interface WebhookDelivery {
  url: string;
  status: "pending" | "delivered" | "failed";
  attempts: WebhookAttempt[];
}

/** See record-webhook-attempt.lua. */
const recordAttempt = new LuaScript<
  [meta: string, attempts: string, attempt: string, kept: number, state: string],
  number
>("fusionWebhookAttempt", new URL("./record-webhook-attempt.lua", import.meta.url), 2);

/** Records an attempt (and the final state, when it is one); false when the fusion's records expired. */
export async function recordWebhookAttempt(
  redis: RedisClient,
  fusionId: string,
  attempt: WebhookAttempt,
  state: "delivered" | "failed" | undefined,
): Promise<boolean> {
  const done = await recordAttempt.run(
    redis,
    keys.meta(fusionId),
    keys.webhookAttempts(fusionId),
    JSON.stringify(attempt),
    WEBHOOK_ATTEMPTS_KEPT,
    state ?? "",
  );
  return done === 1;
}

/** The fusion's webhook, or undefined when it has none (or its records expired). */
export async function readWebhookDelivery(
  redis: RedisClient,
  fusionId: string,
): Promise<WebhookDelivery | undefined> {
  const [[url, state], raw] = await Promise.all([
    redis.hmget(keys.meta(fusionId), WEBHOOK_FIELDS.url, WEBHOOK_FIELDS.state),
    redis.lrange(keys.webhookAttempts(fusionId), 0, -1),
  ]);
  if (!url) return undefined;
  const attempts = raw.flatMap((text) => {
    try {
      return [JSON.parse(text) as WebhookAttempt];
    } catch {
      return [];
    }
  });
  const status = state === "delivered" || state === "failed" ? state : "pending";
  return { url, status, attempts };
}
