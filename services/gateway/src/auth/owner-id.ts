import { createHmac, randomBytes } from "node:crypto";
import { keys, type RedisClient } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";

/** Turns an API key into the id of its owner (fusion meta, per-key limits): never the key itself. */
export type OwnerIdOf = (apiKey: string) => Promise<string>;

/** Length of an owner id: 64 bits of the HMAC, in hex. */
const OWNER_ID_CHARS = 16;

/** The owner id of `apiKey` under `secret`: the first 16 hex characters of HMAC-SHA256(secret, key). */
export function ownerIdWith(secret: string, apiKey: string): string {
  return createHmac("sha256", secret).update(apiKey).digest("hex").slice(0, OWNER_ID_CHARS);
}

/**
 * Owner ids as keyed hashes, so that an id (in Redis, logs or metrics) cannot be checked against a
 * guessed key without the secret: OWNER_ID_SECRET, or else a random secret that the first gateway of a
 * deployment stores in Redis (`SET NX`) and every gateway then reads, once. A Redis failure while
 * reading it is a 503 and is tried again on the next request.
 */
export function ownerIds(redis: RedisClient, configured: string | undefined): OwnerIdOf {
  let secret: Promise<string> | undefined =
    configured === undefined ? undefined : Promise.resolve(configured);
  const load = async (): Promise<string> => {
    const key = keys.ownerIdSecret();
    await redis.set(key, randomBytes(32).toString("hex"), "NX");
    const stored = await redis.get(key);
    if (!stored) throw new Error("the owner id secret vanished from Redis");
    return stored;
  };
  return async (apiKey) => {
    secret ??= load().catch((err: unknown) => {
      secret = undefined;
      throw new FusionError("unavailable", "cannot read the owner id secret from Redis", { cause: err });
    });
    return ownerIdWith(await secret, apiKey);
  };
}
