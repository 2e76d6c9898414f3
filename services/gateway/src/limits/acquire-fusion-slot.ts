import type { KeyLimits } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { FusionSlots } from "./fusion-slots.ts";
import { retryAfterSeconds } from "./retry-after.ts";

/**
 * Takes a slot of the key's concurrent-fusion limit for a fusion of `owner`, or throws 429. The slot is
 * kept by `slots` until the fusion ends (done, failed, cancelled), whether or not a response serves it.
 * Without limits (no `keyLimitsMiddleware`), or with the limit off, this does nothing. Fails closed: when Redis
 * cannot count the slots, the answer is 503 (the fusion could not be enqueued anyway).
 */
export async function acquireFusionSlot(
  limits: KeyLimits | undefined,
  slots: FusionSlots,
  owner: string,
  fusionId: string,
): Promise<void> {
  if (!limits || limits.maxConcurrent <= 0) return;
  let decision: Awaited<ReturnType<KeyLimits["tryAcquire"]>>;
  try {
    decision = await limits.tryAcquire(owner, fusionId);
  } catch (err) {
    limits.logger?.warn({ err: (err as Error).message }, "concurrency limit unavailable (Redis)");
    throw new FusionError("unavailable", "the service cannot take work right now (limits unavailable)");
  }
  if (decision.slot) {
    slots.hold(fusionId, owner, decision.slot);
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
