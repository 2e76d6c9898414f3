import type { Dispatcher } from "undici";

type Body = Dispatcher.ResponseData["body"];

/** At most this much of an error body is read. */
export const errorBodyCap = 64 * 1024;

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Lower-cased response headers without hop-by-hop ones; repeated headers joined with ", ". */
export function endToEndHeaders(raw: Dispatcher.ResponseData["headers"]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || hopByHop.has(name.toLowerCase())) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** Reads at most `cap` bytes of a body as UTF-8; a longer body is destroyed after the cap. */
export async function readCapped(body: Body, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    chunks.push(buf);
    size += buf.length;
    if (size >= cap) {
      body.on("error", ignore);
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, cap).toString("utf8");
}

/**
 * Lets go of a response body. A finished stream's rest (normally nothing but the chunked terminator) is
 * drained in the background so the connection can be reused; an unfinished one is destroyed, which
 * aborts the request and closes the socket.
 */
export function release(body: Body | undefined, finished: boolean): void {
  if (!body || body.destroyed || body.readableEnded) return;
  // Destroying an unfinished undici body emits an "aborted" error: nobody else listens any more.
  body.on("error", ignore);
  if (!finished) {
    body.destroy();
    return;
  }
  const timer = setTimeout(() => body.destroy(), 1_000);
  timer.unref();
  body.once("close", () => clearTimeout(timer));
  body.resume();
}

function ignore(): void {}

export function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? "";
}
