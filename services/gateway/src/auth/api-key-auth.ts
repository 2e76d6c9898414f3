import { createHash, timingSafeEqual } from "node:crypto";
import { FusionError } from "@fusion/wire";
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { createMiddleware } from "hono/factory";
import { fusionErrorResponse } from "../http/error-response.ts";
import type { OwnerIdOf } from "./owner-id.ts";

type AuthEnv = { Variables: { keyId: string } };

const MISSING_KEY_MESSAGE = "missing API key: send Authorization: Bearer <key>";
const INVALID_KEY_MESSAGE = "invalid API key";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Our 401 in the error shape; `bearerAuth` adds its `WWW-Authenticate` challenge. */
const unauthorized = (message: string) => () => fusionErrorResponse(new FusionError("unauthorized", message));

/**
 * Bearer-key check for the API routes: Hono's `bearerAuth` (header syntax, `WWW-Authenticate`), answering
 * 401 in our error shape for a missing key, a malformed header and a wrong key alike. Keys are compared
 * as SHA-256 digests in constant time, so neither their content nor their length leaks through timing;
 * the caller is identified (`c.get("keyId")`) by its owner id, a keyed hash of its key (`ownerId`),
 * without keeping the key itself. Without keys the API is open and every caller is "open".
 */
export function apiKeyAuth(keys: string[], ownerId: OwnerIdOf): MiddlewareHandler<AuthEnv> {
  if (keys.length === 0) {
    return createMiddleware<AuthEnv>(async (c, next) => {
      c.set("keyId", "open");
      await next();
    });
  }
  const digests = keys.map(digest);
  return bearerAuth<AuthEnv>({
    verifyToken: async (token, c) => {
      const given = digest(token);
      // Every key is compared, so the time taken does not tell which one matched.
      let ok = false;
      for (const d of digests) ok = timingSafeEqual(d, given) || ok;
      if (ok) c.set("keyId", await ownerId(token));
      return ok;
    },
    noAuthenticationHeader: { message: unauthorized(MISSING_KEY_MESSAGE) },
    invalidAuthenticationHeader: { message: unauthorized(INVALID_KEY_MESSAGE) },
    invalidToken: { message: unauthorized(INVALID_KEY_MESSAGE) },
  });
}
