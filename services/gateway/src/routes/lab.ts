import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@fusion/runtime";
import { errorBody } from "@fusion/wire";
import { serveStatic } from "@hono/node-server/serve-static";
import type { MiddlewareHandler } from "hono";
import { etag } from "hono/etag";
import { secureHeaders } from "hono/secure-headers";
import { factory } from "../factory.ts";

/** Where the gateway serves the lab page (the routes carry it: mount them at "/"). */
const LAB_BASE = "/lab";

/** What the page may load: its own scripts, styles, images and fonts, and its own API; nothing inline. */
const contentSecurityPolicy = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  manifestSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

const BUILD_HINT =
  "the lab is not built: run `pnpm --filter @fusion/lab build` (scripts/bootstrap.sh, run by the start and test commands, builds it)";

/** Hashed files never change under their name; the page itself is checked on every load. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

/**
 * A `serveStatic` made on its first request, once the build is there: made earlier, it would print its
 * own complaint about a missing directory beside our one warning.
 */
function whenBuilt(make: () => MiddlewareHandler): MiddlewareHandler {
  let handler: MiddlewareHandler | undefined;
  return (c, next) => {
    handler ??= make();
    return handler(c, next);
  };
}

export interface LabRoutesOptions {
  /** The built page (`@fusion/lab`'s `labDistDir`): `index.html` and hashed files under `assets/`. */
  distDir: string;
  logger: Pick<Logger, "warn">;
}

/**
 * `GET /lab`: the lab page, public (the API it calls checks the key), under a strict Content-Security-Policy.
 * `/lab` and `/lab/` answer `index.html` (revalidated on every load, with an ETag), `/lab/assets/*` the
 * hashed files (cached for a year). Paths are resolved by Hono's `serveStatic`, which refuses `.`/`..`
 * segments, backslashes and encoded separators; anything not in the build is 404 in the error shape.
 * Without a build the gateway still runs: one warning at start-up, and 503 saying how to build it.
 */
export function labRoutes({ distDir, logger }: LabRoutesOptions) {
  const index = join(distDir, "index.html");
  if (!existsSync(index)) logger.warn({ distDir }, `${BUILD_HINT}; /lab answers 503 until then`);

  // Set once the file is found (a 404 keeps the error's own headers).
  const cacheFor = (cacheControl: string) =>
    factory.createMiddleware(async (c, next) => {
      await next();
      if (c.res.ok) c.res.headers.set("Cache-Control", cacheControl);
    });
  const stripBase = (path: string) => path.slice(LAB_BASE.length);

  const lab = factory.createApp();
  const all = `${LAB_BASE}/*`; // also matches LAB_BASE itself
  lab.use(
    all,
    secureHeaders({
      contentSecurityPolicy,
      referrerPolicy: "no-referrer",
      xFrameOptions: "DENY",
      // Served over plain HTTP on loopback by default: HSTS belongs to the TLS proxy in front, if any.
      strictTransportSecurity: false,
      permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [], usb: [] },
    }),
  );
  // Once the build is there it stays: only a missing one is looked for again on each request.
  let built = false;
  lab.use(all, async (c, next) => {
    built ||= existsSync(index);
    if (!built) return c.json(errorBody(503, BUILD_HINT), 503);
    await next();
  });
  lab.use(all, etag());

  const page = whenBuilt(() => serveStatic({ root: distDir, path: "index.html" }));
  const files = whenBuilt(() => serveStatic({ root: distDir, rewriteRequestPath: stripBase }));
  for (const path of [LAB_BASE, `${LAB_BASE}/`, `${LAB_BASE}/index.html`])
    lab.get(path, cacheFor(REVALIDATE), page);
  lab.get(`${LAB_BASE}/assets/*`, cacheFor(IMMUTABLE), files);
  // Files Vite copies from `public/` (an icon, say) keep their names: revalidated like the page.
  lab.get(`${LAB_BASE}/:file{[^/]+}`, cacheFor(REVALIDATE), files);
  return lab;
}
