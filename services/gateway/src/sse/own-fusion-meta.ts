import type { RedisClient } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import { type FusionMeta, readMeta } from "@fusion/intake";

/**
 * The meta of a fusion the caller's key started. Only that key may read a fusion; to any other, as for
 * an id that is malformed, unknown or expired, it does not exist (404).
 */
export async function ownFusionMeta(redis: RedisClient, id: string, keyId: string): Promise<FusionMeta> {
  const meta = /^[\w-]{1,100}$/.test(id) ? await readMeta(redis, id) : undefined;
  if (!meta || meta.owner !== keyId)
    throw new FusionError("not_found", `no fusion ${id} (it may have expired)`);
  return meta;
}
