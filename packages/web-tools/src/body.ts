import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

export interface LimitedBody {
  bytes: Buffer;
  /** True when the body had more than the limit and reading stopped. */
  truncated: boolean;
}

/**
 * Stops a response body without reading it. undici bodies emit an "aborted" error when destroyed
 * early; nobody is waiting for that error, so it is swallowed here.
 */
export function discard(body: Readable): void {
  if (body.destroyed) return;
  body.on("error", () => {});
  body.destroy();
}

/** Reads at most `maxBytes` from a stream, then stops reading and destroys it. */
export async function readLimited(stream: AsyncIterable<Uint8Array>, maxBytes: number): Promise<LimitedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream) {
    const remaining = maxBytes - size;
    if (chunk.length > remaining) {
      if (remaining > 0) chunks.push(Buffer.from(chunk.subarray(0, remaining)));
      size += Math.max(0, remaining);
      truncated = true;
      break; // ends the iteration, which destroys the stream
    }
    chunks.push(Buffer.from(chunk));
    size += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, size), truncated };
}

/** Wraps a response body in a decoder for its Content-Encoding; the body itself when identity. */
export function decodeContent(body: Readable, encoding: string | undefined): Readable {
  const coding = (encoding ?? "").trim().toLowerCase();
  if (coding === "" || coding === "identity") return body;
  const decoder =
    coding === "gzip" || coding === "x-gzip"
      ? createGunzip()
      : coding === "deflate"
        ? createInflate()
        : coding === "br"
          ? createBrotliDecompress()
          : undefined;
  if (decoder === undefined) throw new Error(`unsupported content encoding ${coding}`);
  body.on("error", (error) => decoder.destroy(error));
  decoder.on("close", () => discard(body));
  return body.pipe(decoder);
}

export interface MediaType {
  /** Lowercase `type/subtype`, "" when absent. */
  essence: string;
  charset: string | undefined;
}

export function parseContentType(header: string | undefined): MediaType {
  if (!header) return { essence: "", charset: undefined };
  const [essence = "", ...params] = header.split(";");
  let charset: string | undefined;
  for (const param of params) {
    const [key = "", value = ""] = param.split("=");
    if (key.trim().toLowerCase() === "charset") charset = value.trim().replace(/^"|"$/g, "") || undefined;
  }
  return { essence: essence.trim().toLowerCase(), charset };
}

/** A `<meta charset>` or `<meta http-equiv="content-type">` declaration near the start of an HTML document. */
export function sniffHtmlCharset(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 2048).toString("latin1");
  const match = /<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_:.-]+)/i.exec(head);
  return match?.[1];
}

/** Decodes bytes with a charset label, falling back to UTF-8 for unknown labels. */
export function decodeText(bytes: Buffer, charset: string | undefined): string {
  if (charset) {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // unknown label: fall through to UTF-8
    }
  }
  return new TextDecoder("utf-8").decode(bytes);
}
