import { createHash, randomBytes } from "node:crypto";
import { keys, type RedisClient } from "@fusion/runtime";

/** How long an admin session lasts after its login (the cookie's Max-Age too). */
export const ADMIN_SESSION_TTL_SECONDS = 8 * 60 * 60;

/** The Redis key of a session: the id's SHA-256, so that what Redis holds does not open the dashboard. */
export const adminSessionKey = (id: string): string =>
  keys.adminSession(createHash("sha256").update(id).digest("hex"));

/** A session id as the cookie carries it: 32 random bytes in hex. */
const SESSION_ID = /^[0-9a-f]{64}$/;

/**
 * Admin dashboard sessions in Redis: a login creates a random id that expires after
 * ADMIN_SESSION_TTL_SECONDS, a logout deletes it. Shared by every gateway on the same Redis; a Redis
 * error rejects (the request fails), it never lets a cookie in.
 */
export interface AdminSessions {
  create(): Promise<string>;
  isValid(id: string | undefined): Promise<boolean>;
  revoke(id: string | undefined): Promise<void>;
}

export function adminSessions(redis: RedisClient, ttlSeconds = ADMIN_SESSION_TTL_SECONDS): AdminSessions {
  const wellFormed = (id: string | undefined): id is string => id !== undefined && SESSION_ID.test(id);
  return {
    async create() {
      const id = randomBytes(32).toString("hex");
      await redis.set(adminSessionKey(id), "1", "EX", ttlSeconds);
      return id;
    },
    async isValid(id) {
      if (!wellFormed(id)) return false;
      return (await redis.exists(adminSessionKey(id))) === 1;
    },
    async revoke(id) {
      if (wellFormed(id)) await redis.del(adminSessionKey(id));
    },
  };
}
