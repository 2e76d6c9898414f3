import type { Logger } from "pino";
import type { UpstreamError } from "./errors.ts";

export interface UpstreamClientOptions {
  /** e.g. https://openrouter.ai/api/v1; requests go to `${baseUrl}/chat/completions`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; never appears in errors or logs. */
  apiKey?: string;
  /** Extra static headers (e.g. HTTP-Referer, X-Title). */
  headers?: Record<string, string>;
  /** Time to response headers (TTFB). Default 60_000. */
  headersTimeoutMs?: number;
  /** Longest idle gap while reading the body. Default 120_000. */
  bodyTimeoutMs?: number;
  /** Default 3, so up to 4 attempts. */
  maxRetries?: number;
  /** Exponential backoff base with full jitter. Default 500. */
  retryBaseMs?: number;
  /** Cap for any single wait, including Retry-After. Default 30_000. */
  retryMaxMs?: number;
  /** undici pool connections per origin. Default 256. */
  connections?: number;
  /** Told of every failed call (after each attempt), e.g. to count it in a metric. */
  onError?: (error: Pick<UpstreamError, "kind" | "status">) => void;
  /** Retries are logged at warn (model, status, kind, attempt, delayMs), without secrets or bodies. */
  logger?: Logger;
}
