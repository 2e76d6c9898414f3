import { keys, type RedisClient } from "@fusion/runtime";
import { type FusionMeta, parseMeta } from "@fusion/intake";

/** A fusion as the listing and the cancel endpoint show it. */
export interface FusionSummary {
  id: string;
  object: "fusion";
  /** Seconds since the epoch. */
  created: number;
  status: "queued" | "running" | "completed" | "failed" | "cancelled";
  /** The model the request named. */
  model: string;
  models: string[];
  judge: string;
  /** The start of the last user message. */
  prompt: string;
  /** What it cost: null until it completed, or when the upstream reported no cost. */
  cost: number | null;
}

/**
 * A fusion's summary from what Redis holds: its meta (with the outcome the event writer recorded when
 * its stream ended), whether it was cancelled, and whether its stream exists (running, else queued).
 * Undefined when it is not `owner`'s, or no longer retained: its meta is gone, or it ended and its
 * events have expired. Three reads, sent together (auto-pipelined; on a Cluster they share a slot).
 */
export async function fusionSummary(
  redis: RedisClient,
  fusionId: string,
  owner: string,
): Promise<FusionSummary | undefined> {
  const [hash, events, cancelled] = await Promise.all([
    redis.hgetall(keys.meta(fusionId)),
    redis.exists(keys.events(fusionId)),
    redis.exists(keys.cancelled(fusionId)),
  ]);
  const meta = parseMeta(hash);
  if (!meta || meta.owner !== owner) return undefined;
  if (meta.outcome && events === 0) return undefined;
  return summaryOf(fusionId, meta, meta.outcome ?? (cancelled ? "cancelled" : events ? "running" : "queued"));
}

/** The summary of a fusion whose status is known. */
export function summaryOf(
  fusionId: string,
  meta: FusionMeta,
  status: FusionSummary["status"],
): FusionSummary {
  return {
    id: fusionId,
    object: "fusion",
    created: Math.floor(meta.created / 1000),
    status,
    model: meta.requested,
    models: meta.models,
    judge: meta.judge,
    prompt: meta.prompt,
    cost: status === "completed" && meta.cost !== undefined ? meta.cost : null,
  };
}
