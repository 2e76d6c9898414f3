import { describe, expect, it } from "vitest";
import {
  MAX_WEBHOOK_ATTEMPTS,
  nominalRetryDelayMs,
  retryDelayMs,
  type WebhookRetryPolicy,
  webhookAttempts,
} from "./webhook-retry.ts";

const defaults: WebhookRetryPolicy = { baseMs: 5_000, maxDelayMs: 3_600_000, retryForMs: 86_400_000 };

/** The longest time from the first attempt to the start of the last retry, with the longest jitter. */
function longestSpan(policy: WebhookRetryPolicy): number {
  let total = 0;
  for (let retry = 1; retry < webhookAttempts(policy); retry++) total += retryDelayMs(retry, policy, () => 1);
  return total;
}

describe("webhook retries", () => {
  it("double from the base delay up to the cap", () => {
    expect([1, 2, 3, 4].map((n) => nominalRetryDelayMs(n, defaults))).toEqual([
      5_000, 10_000, 20_000, 40_000,
    ]);
    expect(nominalRetryDelayMs(10, defaults)).toBe(2_560_000);
    expect(nominalRetryDelayMs(11, defaults)).toBe(3_600_000);
    expect(nominalRetryDelayMs(500, defaults)).toBe(3_600_000);
  });

  it("jitter draws each delay from 80 to 100% of the nominal one", () => {
    expect(retryDelayMs(3, defaults, () => 0)).toBe(16_000);
    expect(retryDelayMs(3, defaults, () => 0.5)).toBe(18_000);
    expect(retryDelayMs(3, defaults, () => 0.999_999)).toBeLessThanOrEqual(20_000);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(12, defaults);
      expect(d).toBeGreaterThanOrEqual(0.8 * 3_600_000);
      expect(d).toBeLessThanOrEqual(3_600_000);
    }
  });

  it("give a webhook as many attempts as fit in the retry time, and no more", () => {
    // 10 doubling retries (5 s to 2,560 s: 5,115 s), then 22 hourly ones (79,200 s): 84,315 s ≤ 24 h.
    expect(webhookAttempts(defaults)).toBe(33);
    expect(longestSpan(defaults)).toBe(84_315_000);
    expect(longestSpan(defaults)).toBeLessThanOrEqual(defaults.retryForMs);
    const short = { baseMs: 100, maxDelayMs: 60_000, retryForMs: 1_500 };
    // 100 + 200 + 400 + 800 = 1,500 ms: four retries.
    expect(webhookAttempts(short)).toBe(5);
    expect(webhookAttempts({ ...short, retryForMs: 1_499 })).toBe(4);
    expect(webhookAttempts({ ...short, retryForMs: 0 })).toBe(1);
  });

  it("never exceed MAX_WEBHOOK_ATTEMPTS, however small the delays", () => {
    expect(webhookAttempts({ baseMs: 1, maxDelayMs: 1, retryForMs: 86_400_000 })).toBe(MAX_WEBHOOK_ATTEMPTS);
  });
});
