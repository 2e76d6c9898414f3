import type { KeyLimits } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { Context } from "hono";
import type { AppEnv } from "../factory.ts";
import type { FusionSlots } from "./fusion-slots.ts";
import { retryAfterSeconds } from "./retry-after.ts";

/**
 * Takes a slot of the key's concurrent-fusion limit for this request's fusion, or throws 429. The slot
 * is kept by `slots` until the fusion ends (done, failed, cancelled), not when this response ends.
 * Without `keyLimitsMiddleware`, or with the limit off, this does nothing. Fails closed: when Redis
 * cannot count the slots, the answer is 503 (the fusion could not be enqueued anyway).
 */
export async function acquireFusionSlot(
  c: Context<AppEnv>,
  slots: FusionSlots,
  fusionId: string,
): Promise<void> {
  const limits = c.get("keyLimits");
  if (!limits || limits.maxConcurrent <= 0) return;
  let decision: Awaited<ReturnType<KeyLimits["tryAcquire"]>>;
  try {
    decision = await limits.tryAcquire(c.get("keyId"), fusionId);
  } catch (err) {
    limits.logger?.warn({ err: (err as Error).message }, "concurrency limit unavailable (Redis)");
    throw new FusionError("unavailable", "the service cannot take work right now (limits unavailable)");
  }
  if (decision.slot) {
    slots.hold(fusionId, c.get("keyId"), decision.slot);
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
