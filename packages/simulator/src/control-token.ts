import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";

/** The header that carries the control token: `Authorization: Bearer <token>`. */
export const controlAuthorization = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

/** A fresh random control token (what a simulator uses when it is given none). */
export const randomControlToken = (): string => randomBytes(24).toString("hex");

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Guards the control API (`/_sim/*`, which reads every tenant's prompts and rewrites the scripts): a
 * request without `Authorization: Bearer <token>` gets the same 404 as a path that does not exist, so
 * a web_fetch of the simulator's pages origin (which cannot set headers) learns nothing of it. Only
 * `/_sim/health` stays open, it says nothing but `ok`.
 */
export function requireControlToken(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    if (c.req.path.endsWith("/_sim/health")) return next();
    const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization")?.trim() ?? "")?.[1];
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return next();
    return c.json({ error: { code: 404, message: `no route for ${c.req.method} ${c.req.path}` } }, 404);
  };
}
