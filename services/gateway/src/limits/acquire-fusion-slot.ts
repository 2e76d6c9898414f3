import type { KeyLimits } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { Context } from "hono";
import type { AppEnv } from "../factory.ts";
import { retryAfterSeconds } from "./retry-after.ts";

/**
 * Takes a slot of the key's concurrent-fusion limit for this request's fusion, or throws 429. The slot is
 * released by `keyLimitsMiddleware` when the response ends; without that middleware this does nothing.
 */
export async function acquireFusionSlot(c: Context<AppEnv>, fusionId: string): Promise<void> {
  const limits = c.get("keyLimits");
  if (!limits || limits.maxConcurrent <= 0) return;
  let decision: Awaited<ReturnType<KeyLimits["tryAcquire"]>> | undefined;
  try {
    decision = await limits.tryAcquire(c.get("keyId"), fusionId);
  } catch (err) {
    // Fail open: enqueueing needs Redis too and reports its own failure.
    limits.logger?.warn({ err: (err as Error).message }, "concurrency limit unavailable (Redis)");
    return;
  }
  if (decision.slot) {
    c.set("fusionSlot", decision.slot);
    return;
  }
  throw new FusionError(
    "rate_limited",
    `too many fusions in flight for this API key (at most ${limits.maxConcurrent}); retry when one has finished`,
    {
      headers: { "retry-after": retryAfterSeconds(decision.allowed ? 1000 : decision.retryAfterMs) },
      metadata: { limit: "concurrent_fusions", max: limits.maxConcurrent },
    },
  );
}
