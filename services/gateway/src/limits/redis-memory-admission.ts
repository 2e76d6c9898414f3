import type { Logger, RedisClient } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";

export interface RedisMemoryAdmissionOptions {
  /** Refuse new fusions at this share of Redis's `maxmemory`, in percent; 0 turns the check off. */
  thresholdPercent: number;
  /** How long one reading of `INFO memory` is used. */
  cacheMs?: number;
  /** The `Retry-After` of a refusal, in seconds. */
  retryAfterSeconds?: number;
  logger?: Pick<Logger, "warn">;
}

/** used_memory / maxmemory of one node's `INFO memory` (0 when it has no maxmemory). */
function memoryShare(info: string): number {
  const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
  const max = Number(/^maxmemory:(\d+)/m.exec(info)?.[1] ?? 0);
  return max > 0 ? used / max : 0;
}

/** The fullest node's share: every master of a Cluster, else the one server. */
async function readShare(redis: RedisClient): Promise<number> {
  if ("nodes" in redis) {
    const shares = await Promise.all(
      redis.nodes("master").map(async (node) => memoryShare(await node.info("memory"))),
    );
    return Math.max(0, ...shares);
  }
  return memoryShare(await redis.info("memory"));
}

/**
 * Admission control for new fusions: before Redis is full (a full Redis under `noeviction` is an
 * outage for every tenant), a new fusion is refused with 503 and `Retry-After` while Redis's used
 * memory is at or above the threshold of its `maxmemory`. `INFO memory` is read at most once per
 * `cacheMs` (one reading is shared by every request meanwhile). A Redis without `maxmemory` is never
 * full; when the reading fails, the fusion goes on (its enqueue answers 503 itself if Redis is down).
 */
export function redisMemoryAdmission(
  redis: RedisClient,
  options: RedisMemoryAdmissionOptions,
): () => Promise<void> {
  const { thresholdPercent, cacheMs = 1000, retryAfterSeconds = 5, logger } = options;
  let reading: { at: number; share: Promise<number> } | undefined;

  function share(): Promise<number> {
    const now = Date.now();
    if (!reading || now - reading.at >= cacheMs) {
      const value = readShare(redis).catch((err: unknown) => {
        logger?.warn({ err: (err as Error).message }, "could not read Redis memory (INFO memory)");
        return 0;
      });
      reading = { at: now, share: value };
    }
    return reading.share;
  }

  return async () => {
    if (thresholdPercent <= 0) return;
    const used = await share();
    if (used * 100 < thresholdPercent) return;
    throw new FusionError("unavailable", "the service is near its storage limit; retry later", {
      headers: { "retry-after": String(retryAfterSeconds) },
      metadata: { limit: "redis_memory" },
    });
  };
}
