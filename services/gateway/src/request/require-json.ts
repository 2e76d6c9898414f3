import { FusionError } from "@fusion/wire";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";

/** `application/json`, with or without parameters (`; charset=utf-8`), in any case. */
const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/** Whether a request carries a body: a non-zero `content-length`, a chunked one, or a body stream. */
function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  if (length !== null) return length.trim() !== "0";
  return req.headers.has("transfer-encoding") || req.body !== null;
}

/**
 * A request with a body must say it is JSON (`content-type: application/json`): 415 in the error shape
 * otherwise. A browser sends `text/plain`, form and multipart bodies across sites without asking, so
 * without this a page could start fusions on a gateway that is open or reached with ambient credentials.
 */
export function requireJsonBody(): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    if (hasBody(c.req.raw) && !JSON_MEDIA_TYPE.test(c.req.header("content-type") ?? "")) {
      throw new FusionError(
        "unsupported_media_type",
        "the request body must be JSON: send content-type: application/json",
      );
    }
    await next();
  });
}
