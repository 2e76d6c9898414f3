/** How a webhook's failed attempts are retried: capped exponential backoff within a total time. */
export interface WebhookRetryPolicy {
  /** The delay before the first retry (ms); each next one doubles. */
  baseMs: number;
  /** The longest delay between two attempts (ms). */
  maxDelayMs: number;
  /** How long after the first attempt the last retry may start, at most (ms). */
  retryForMs: number;
}

/** Most attempts of one webhook, whatever the policy: a tiny delay must not mean millions of requests. */
export const MAX_WEBHOOK_ATTEMPTS = 100;

/** A retry's delay is drawn from [JITTER_FLOOR × nominal, nominal]: never above the nominal one. */
const JITTER_FLOOR = 0.8;

/** The nominal delay before retry `retry` (1 for the first): baseMs · 2^(retry-1), capped at maxDelayMs. */
export function nominalRetryDelayMs(retry: number, policy: WebhookRetryPolicy): number {
  const exponent = Math.min(Math.max(retry - 1, 0), 40);
  return Math.min(policy.baseMs * 2 ** exponent, policy.maxDelayMs);
}

/**
 * The delay before retry `retry` with jitter (so that receivers that come back are not hit by every
 * sender at once): uniform in [0.8, 1] of the nominal delay.
 */
export function retryDelayMs(retry: number, policy: WebhookRetryPolicy, random = Math.random): number {
  const nominal = nominalRetryDelayMs(retry, policy);
  return Math.floor(nominal * (JITTER_FLOOR + (1 - JITTER_FLOOR) * random()));
}

/**
 * How many attempts a webhook gets: the first, and every retry whose nominal delays, added up, still
 * fit in `retryForMs`. Jittered delays are never longer than nominal ones, so the last retry starts
 * within `retryForMs` of the first attempt (plus the attempts' own time, 10 s each at most). Never
 * more than MAX_WEBHOOK_ATTEMPTS.
 */
export function webhookAttempts(policy: WebhookRetryPolicy): number {
  let attempts = 1;
  let total = 0;
  while (attempts < MAX_WEBHOOK_ATTEMPTS) {
    const next = nominalRetryDelayMs(attempts, policy);
    if (total + next > policy.retryForMs) return attempts;
    total += next;
    attempts += 1;
  }
  return attempts;
}
