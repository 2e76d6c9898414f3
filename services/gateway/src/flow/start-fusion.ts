import { annotateActiveSpan, type KeyLimits } from "@fusion/runtime";
import type { GatewayDeps } from "../deps.ts";
import { acquireFusionSlot } from "../limits/acquire-fusion-slot.ts";
import { redisMemoryAdmission } from "../limits/redis-memory-admission.ts";
import { type AcceptedFusion, fusionEnqueuer } from "@fusion/intake";

/** A fusion to start, with the limits of the key that starts it (none: no per-key limits). */
export interface FusionToStart extends AcceptedFusion {
  keyLimits: KeyLimits | undefined;
}

/** A fusion that holds its slot: `accepted` settles once it is in Redis (rejects with 503 otherwise). */
export interface StartedFusion {
  accepted: Promise<void>;
}

export type StartFusion = (fusion: FusionToStart) => Promise<StartedFusion>;

/**
 * Starts fusions, whether or not a response will serve them: refuses (503) while Redis is near its
 * memory limit, takes the key's concurrent-fusion slot (429 beyond it; the slot is held until the
 * fusion ends, seen by a response or by the holder's periodic check, and freed at once when the fusion
 * is never enqueued), then enqueues it. Throws when refused; resolves once the slot is held, without
 * waiting for the enqueue.
 */
export function fusionStarter(
  deps: Pick<GatewayDeps, "env" | "logger" | "redis" | "shardOf" | "flows" | "slots">,
): StartFusion {
  const enqueue = fusionEnqueuer(deps);
  const admit = redisMemoryAdmission(deps.redis, {
    thresholdPercent: deps.env.REDIS_MEMORY_ADMISSION_PERCENT,
    logger: deps.logger,
  });

  return async ({ keyLimits, ...fusion }) => {
    await admit();
    const { fusionId, plan } = fusion;
    annotateActiveSpan({ "fusion.id": fusionId, "fusion.entry": plan.entry, "fusion.mode": plan.mode });
    await acquireFusionSlot(keyLimits, deps.slots, fusion.owner, fusionId);
    const accepted = enqueue(fusion);
    // A fusion that was never enqueued frees its slot at once.
    accepted.catch(() => deps.slots.drop(fusionId));
    return { accepted };
  };
}
