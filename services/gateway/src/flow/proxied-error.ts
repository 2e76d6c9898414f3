import { httpError } from "@fusion/llm-client";
import { errorBody } from "@fusion/wire";
import type { UpstreamIdentity } from "@fusion/intake";

/** Most of an upstream error body read: enough for its message, bounded whatever it sends. */
const ERROR_BODY_CAP = 64 * 1024;

interface UpstreamAnswer {
  status: number;
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
}

/** At most `cap` bytes of a body as text; the rest is not read (the stream is cancelled). */
async function readCapped(body: ReadableStream<Uint8Array>, cap: number): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < cap) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, cap));
}

/**
 * A non-2xx upstream answer to a proxied request, as our error shape: the message the worker path
 * builds (`httpError`: the upstream's own message, at most 500 characters, every upstream key and
 * credential header replaced by `[redacted]`), never the upstream's body. An upstream 401 or 403 says
 * the gateway's upstream credentials were refused, not the caller's: a 502 naming the upstream. A 3xx
 * or 1xx is a 502 too; other statuses are kept, with `retry-after`.
 */
export async function proxiedErrorResponse(
  res: UpstreamAnswer,
  identity: UpstreamIdentity,
  model: string,
): Promise<Response> {
  const text = await readCapped(res.body, ERROR_BODY_CAP).catch(() => "");
  const upstream = identity.nameFor(model);
  const error = httpError(res.status, text, { suffix: ` (${upstream})`, secrets: identity.secrets });
  const refused = res.status === 401 || res.status === 403;
  const status = refused || res.status < 400 || res.status > 599 ? 502 : res.status;
  const message = refused
    ? `${upstream} refused the gateway's upstream credentials: ${error.message}`
    : error.message;
  const headers = new Headers({ "content-type": "application/json" });
  const retryAfter = res.headers["retry-after"];
  if (retryAfter) headers.set("retry-after", retryAfter);
  const metadata = { upstream, upstream_status: res.status };
  return new Response(JSON.stringify(errorBody(status, message, undefined, metadata)), { status, headers });
}
