import { FusionError } from "@fusion/wire";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/**
 * Hono's body limit, refusing a larger body (declared or streamed) with 413 in the error shape. The
 * rest of the body is not read, so the connection cannot carry another request: it is closed.
 */
export function requestBodyLimit(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new FusionError("payload_too_large", `request body exceeds ${maxSize} bytes`, {
        headers: { connection: "close" },
      });
    },
  });
}
