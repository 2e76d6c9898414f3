import { errorStatus, type FusionError } from "@fusion/wire";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The status of a `FusionError`, typed as the status of a response with a body. */
export function fusionErrorStatus(err: FusionError): ContentfulStatusCode {
  return errorStatus[err.code];
}

/** A `FusionError` as a whole response in the error shape, with its headers (for middleware that builds one). */
export function fusionErrorResponse(err: FusionError): Response {
  return Response.json(err.toBody(), { status: fusionErrorStatus(err), headers: err.headers });
}
