import type { Dispatcher } from "undici";
import { notEventStreamError } from "./completion-body.ts";
import { type ErrorContext, httpError, type UpstreamError } from "./errors.ts";
import { errorBodyCap, readCapped } from "./response-body.ts";
import { parseRetryAfter } from "./retry.ts";

/** The error of a non-2xx response: its status, the start of its body, its Retry-After. */
export async function httpErrorOf(res: Dispatcher.ResponseData, ctx: ErrorContext): Promise<UpstreamError> {
  const text = await readCapped(res.body, errorBodyCap);
  return httpError(res.statusCode, text, ctx, parseRetryAfter(res.headers));
}

/** The error of a 2xx answer to a streaming request that is not an event stream. */
export async function notEventStreamOf(
  res: Dispatcher.ResponseData,
  contentType: string,
  ctx: ErrorContext,
): Promise<UpstreamError> {
  return notEventStreamError(await readCapped(res.body, errorBodyCap), contentType, ctx);
}
