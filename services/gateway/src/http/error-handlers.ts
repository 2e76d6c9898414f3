import type { Logger } from "@fusion/runtime";
import { errorBody, FusionError } from "@fusion/wire";
import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../factory.ts";
import { fusionErrorStatus } from "./error-response.ts";

/** Any unmatched path: 404 in the error shape. */
export const notFound: NotFoundHandler<AppEnv> = (c) =>
  c.json(errorBody(404, `no route for ${c.req.method} ${c.req.path}`), 404);

/**
 * The one place errors become responses, in the error shape `{ error: { code, message, type } }`:
 * a `FusionError` with its status and headers; Hono's `HTTPException` with the response its middleware
 * built (bearer auth: our body and `WWW-Authenticate`), or else its status and message; anything else
 * is a 500 "internal error". Only 5xx are logged.
 */
export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    const requestId = c.get("requestId");
    if (err instanceof FusionError) {
      if (err.status >= 500) logger.error({ err, requestId }, err.message);
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
      return c.json(err.toBody(), fusionErrorStatus(err));
    }
    if (err instanceof HTTPException) {
      if (err.status >= 500) logger.error({ err, requestId }, err.message);
      if (err.res) {
        const res = err.getResponse();
        return c.newResponse(res.body, res);
      }
      return c.json(errorBody(err.status, err.message || `HTTP ${err.status}`), err.status);
    }
    logger.error({ err, requestId }, "unhandled error");
    return c.json(errorBody(500, "internal error"), 500);
  };
}
