import { jobIds, keys } from "@fusion/runtime";
import type { GatewayDeps } from "../deps.ts";

/** How long after its request a fusion with no job yet is still taken to be on its way in (meta and job are written together). */
const ENQUEUE_MARGIN_MS = 30_000;

/**
 * Whether a fusion's events are gone for good while its meta lives: its stream does not exist and its
 * turn job is no longer waiting or running (done, failed, or already removed), so no entry will come.
 * A fusion still queued has no stream yet either: it is not expired.
 */
export async function eventsExpired(
  deps: Pick<GatewayDeps, "redis" | "shardOf">,
  fusionId: string,
  created: number,
): Promise<boolean> {
  if ((await deps.redis.exists(keys.events(fusionId))) === 1) return false;
  const state = await deps.shardOf(fusionId).queues.turn.getJobState(jobIds.turn(fusionId));
  if (state === "completed" || state === "failed") return true;
  return state === "unknown" && Date.now() - created > ENQUEUE_MARGIN_MS;
}
