import type { ReadableStream } from "node:stream/web";
import type { ChatCompletionChunk } from "@fusion/wire";
import type { UpstreamError } from "./errors.ts";

export interface RetryInfo {
  /** The attempt about to be made after the wait: 2 for the first retry. */
  attempt: number;
  delayMs: number;
  error: UpstreamError;
}

export interface CallOptions {
  /** Aborts the in-flight HTTP request (and any backoff sleep) at once. */
  signal?: AbortSignal;
  /** Per-call headers, e.g. { "x-openrouter-fusion-depth": "1" }; they override static ones. */
  headers?: Record<string, string>;
  onRetry?: (info: RetryInfo) => void;
}

export interface StreamTurnOptions extends CallOptions {
  /** Called with each text delta of the answer (never reasoning). */
  onText?: (text: string, chunk: ChatCompletionChunk) => void;
  /** Called with each reasoning text delta (`reasoning`, `reasoning_content` or thinking parts). */
  onReasoning?: (text: string, chunk: ChatCompletionChunk) => void;
  /**
   * Given when the caller can take back what its callbacks received: a retryable failure after the
   * first chunk then restarts the call (with backoff, at most the client's retries), calling this
   * first, instead of failing it. Without it a stream fails once a chunk has arrived (its text may
   * have reached a client already).
   */
  onRestart?: (info: RetryInfo) => void;
}

export interface ProxyResponse {
  status: number;
  /** Lower-cased response headers without hop-by-hop ones; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** A web ReadableStream over the raw body (not decompressed); cancel it to abort the request. */
  body: ReadableStream<Uint8Array>;
}
