import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { errorBody } from "@fusion/wire";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";

/** Where the dashboard lives. */
export const ADMIN_BASE = "/admin";
export const QUEUES_PATH = `${ADMIN_BASE}/queues`;
export const ADMIN_COOKIE = "fusion_admin";
/** How long a browser keeps the admin cookie. */
const COOKIE_MAX_AGE_SECONDS = 8 * 60 * 60;

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The admin key check. A request is let in with `Authorization: Bearer <ADMIN_API_KEY>` (scripts,
 * the JSON API), or with the admin cookie (browsers). A browser gets the cookie by opening any admin
 * URL once with `?key=<ADMIN_API_KEY>`: it is then redirected to the same URL without the key (so the
 * key does not stay in the address bar or history) and the dashboard's own requests carry the cookie.
 * The cookie holds an HMAC of the key, not the key; it is HttpOnly, SameSite=Lax (no cross-site
 * writes), scoped to /admin and Secure over HTTPS. Keys and cookies are compared as SHA-256 digests
 * in constant time.
 */
export function adminAuth(key: string): MiddlewareHandler {
  const keyDigest = digest(key);
  const cookieValue = createHmac("sha256", key).update("fusion-admin-cookie-v1").digest("hex");
  const cookieDigest = digest(cookieValue);
  const matches = (given: string | undefined, expected: Buffer) =>
    given !== undefined && given !== "" && timingSafeEqual(digest(given), expected);

  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(header.trim())?.[1]?.trim();
    if (matches(bearer, keyDigest) || matches(getCookie(c, ADMIN_COOKIE), cookieDigest)) return next();

    const queryKey = c.req.query("key");
    if (queryKey !== undefined && c.req.method === "GET" && matches(queryKey, keyDigest)) {
      setCookie(c, ADMIN_COOKIE, cookieValue, {
        path: ADMIN_BASE,
        httpOnly: true,
        sameSite: "Lax",
        secure: isHttps(c),
        maxAge: COOKIE_MAX_AGE_SECONDS,
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

function isHttps(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return forwarded === "https" || new URL(c.req.url).protocol === "https:";
}
