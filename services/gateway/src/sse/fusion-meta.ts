import { keys, type RedisClient } from "@fusion/runtime";

/** What the gateway records of a fusion it accepted, for the endpoints that read or resume it. */
export interface FusionMeta {
  /** The digest id of the API key that started it ("open" when the gateway has no keys). */
  owner: string;
  created: number;
  model: string;
  stream: boolean;
  progress: boolean;
  /** How long it keeps running, once its client left, for a resume (see `resumeGraceMs`). */
  resumeGraceMs: number;
}

export async function writeMeta(
  redis: RedisClient,
  fusionId: string,
  meta: FusionMeta,
  ttlSeconds: number,
): Promise<void> {
  const key = keys.meta(fusionId);
  await redis
    .multi()
    .hset(key, {
      owner: meta.owner,
      created: String(meta.created),
      model: meta.model,
      stream: meta.stream ? "1" : "0",
      progress: meta.progress ? "1" : "0",
      grace: String(meta.resumeGraceMs),
    })
    .expire(key, ttlSeconds)
    .exec();
}

export async function readMeta(redis: RedisClient, fusionId: string): Promise<FusionMeta | undefined> {
  const h = await redis.hgetall(keys.meta(fusionId));
  if (!h.owner) return undefined;
  return {
    owner: h.owner,
    created: Number(h.created),
    model: h.model ?? "",
    stream: h.stream === "1",
    progress: h.progress === "1",
    resumeGraceMs: Number(h.grace ?? 0) || 0,
  };
}

/** The request header that asks for progress as named `fusion.progress` events ("1", "true", "yes", "on"). */
export const PROGRESS_HEADER = "x-fusion-progress";

/**
 * Whether the request asks for progress as named events: the progress header, or its `fusion` options
 * (the body's `"fusion": {"progress": true}`).
 */
export function wantsProgressEvents(fusionOptions: unknown, header: string | undefined): boolean {
  if (header && ["1", "true", "yes", "on"].includes(header.trim().toLowerCase())) return true;
  return (
    typeof fusionOptions === "object" &&
    fusionOptions !== null &&
    "progress" in fusionOptions &&
    fusionOptions.progress === true
  );
}
