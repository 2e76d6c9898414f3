import { createHash, timingSafeEqual } from "node:crypto";
import { errorBody } from "@fusion/wire";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { ADMIN_SESSION_TTL_SECONDS, type AdminSessions } from "./admin-sessions.ts";

/** Where the dashboard lives. */
export const ADMIN_BASE = "/admin";
export const QUEUES_PATH = `${ADMIN_BASE}/queues`;
export const ADMIN_COOKIE = "fusion_admin";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The admin key check. A request is let in with `Authorization: Bearer <ADMIN_API_KEY>` (scripts,
 * the JSON API), or with the admin session cookie (browsers). A browser logs in by opening any admin
 * URL once with `?key=<ADMIN_API_KEY>`: it gets a new session (a random id kept in Redis, which expires
 * after ADMIN_SESSION_TTL_SECONDS; `POST /admin/logout` deletes it) and is redirected to the same URL
 * without the key (so the key does not stay in the address bar or history). The cookie is HttpOnly,
 * SameSite=Lax (no cross-site writes), scoped to /admin and Secure over HTTPS. Keys are compared as
 * SHA-256 digests in constant time.
 */
export function adminAuth(key: string, sessions: AdminSessions): MiddlewareHandler {
  const keyDigest = digest(key);
  const matches = (given: string | undefined, expected: Buffer) =>
    given !== undefined && given !== "" && timingSafeEqual(digest(given), expected);

  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(header.trim())?.[1]?.trim();
    if (matches(bearer, keyDigest) || (await sessions.isValid(getCookie(c, ADMIN_COOKIE)))) return next();

    const queryKey = c.req.query("key");
    if (queryKey !== undefined && c.req.method === "GET" && matches(queryKey, keyDigest)) {
      setCookie(c, ADMIN_COOKIE, await sessions.create(), {
        path: ADMIN_BASE,
        httpOnly: true,
        sameSite: "Lax",
        secure: isHttps(c),
        maxAge: ADMIN_SESSION_TTL_SECONDS,
      });
      const url = new URL(c.req.url);
      url.searchParams.delete("key");
      c.header("cache-control", "no-store");
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    c.header("www-authenticate", 'Bearer realm="fusion-admin"');
    return c.json(
      errorBody(
        401,
        bearer || queryKey
          ? "invalid admin key"
          : "missing admin key: send Authorization: Bearer <ADMIN_API_KEY>, or open the page once with ?key=<ADMIN_API_KEY>",
      ),
      401,
    );
  };
}

/** `POST /admin/logout`: deletes the cookie's session (whatever state it is in) and clears the cookie. */
export function adminLogout(sessions: AdminSessions): MiddlewareHandler {
  return async (c) => {
    await sessions.revoke(getCookie(c, ADMIN_COOKIE));
    deleteCookie(c, ADMIN_COOKIE, { path: ADMIN_BASE, secure: isHttps(c), httpOnly: true, sameSite: "Lax" });
    c.header("cache-control", "no-store");
    return c.body(null, 204);
  };
}

function isHttps(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return forwarded === "https" || new URL(c.req.url).protocol === "https:";
}
