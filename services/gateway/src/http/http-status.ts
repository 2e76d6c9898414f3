import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const contentless = new Set([204, 205, 304]);

function isContentful(status: number): status is ContentfulStatusCode {
  return Number.isInteger(status) && status >= 200 && status <= 599 && !contentless.has(status);
}

/**
 * A status read from data (a fusion's error event) as the status of a response with a body. One no
 * such response can have is answered 500, as the response would have failed to build with it.
 */
export function contentfulStatus(status: number): ContentfulStatusCode {
  return isContentful(status) ? status : 500;
}

/** nginx's "client closed request": what a request whose client went away is logged and counted as. */
const CLIENT_CLOSED_REQUEST = 499;

/** The empty 499 answer to a client that went away, with the headers set on the context so far. */
export function clientClosedRequest(c: Context): Response {
  return new Response(null, { status: CLIENT_CLOSED_REQUEST, headers: c.res.headers });
}
