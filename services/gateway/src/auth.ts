import { createHash, timingSafeEqual } from "node:crypto";
import { FusionError } from "@fusion/wire";
import type { MiddlewareHandler } from "hono";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Bearer-key check for the API routes. Keys are compared as SHA-256 digests in constant time, so
 * neither their content nor their length leaks through timing. The key's digest identifies the
 * caller (`c.get("keyId")`) without keeping the key itself.
 */
export function bearerAuth(keys: string[]): MiddlewareHandler<{ Variables: { keyId: string } }> {
  const digests = keys.map(digest);
  return async (c, next) => {
    if (digests.length === 0) {
      c.set("keyId", "open");
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const given = match?.[1] ? digest(match[1].trim()) : undefined;
    const ok = given !== undefined && digests.some((d) => timingSafeEqual(d, given));
    if (!ok || !given) {
      throw new FusionError(
        "unauthorized",
        header ? "invalid API key" : "missing API key: send Authorization: Bearer <key>",
      );
    }
    c.set("keyId", given.toString("hex").slice(0, 16));
    return next();
  };
}
