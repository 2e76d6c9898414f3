import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { withTimeout } from "../abort.ts";
import { decodeContent, discard, readLimited } from "../body.ts";
import { headerValue } from "../http-headers.ts";
import { errorMessage } from "../tool-error.ts";
import { isRecord } from "./normalise.ts";
import type { OnSearchError, SearchBackend, SearchErrorReason, SearchResultItem } from "./search-backend.ts";
import { readStatus, redact, SearchFailure, statusMessage } from "./search-failure.ts";

/** Largest answer read from a provider; a larger one is malformed. */
export const MAX_SEARCH_BODY = 5_000_000;
/** Of an error answer, only this much is read (to tell a bad key from a bad request). */
const MAX_ERROR_BODY = 64_000;
/** The wait before the one retry of a 5xx or a reset connection. */
const RETRY_DELAY_MS = 250;
/** A 429 is retried once only when it asks for at most this wait (`Retry-After`). */
const MAX_RETRY_AFTER_MS = 1000;
const DETAIL_CHARS = 200;
/** Connection failures worth one more try: the connection was cut, not refused or unresolvable. */
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

export interface SearchRunOptions {
  /** Time limit of the whole search, its retry included. */
  timeoutMs: number;
  userAgent: string;
  onSearchError?: OnSearchError | undefined;
  signal?: AbortSignal | undefined;
}

/** What one attempt ended with, when it did not give results. */
interface AttemptFailure {
  failure: SearchFailure;
  /** Wait before the retry; undefined: not retryable. */
  retryAfterMs: number | undefined;
}

/** `Retry-After` in ms (delta-seconds or an HTTP date); undefined when absent or unreadable. */
function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A short human reason from a JSON error body (`error`, `error.detail`, `errors[0].detail`, `detail.error`, `detail`, `message`). */
function errorDetail(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const { error, errors, detail, message } = body;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  const candidates = [
    error,
    isRecord(error) ? error.detail : undefined,
    isRecord(first) ? first.detail : undefined,
    isRecord(detail) ? detail.error : undefined,
    detail,
    message,
  ];
  const found = candidates.find((c): c is string => typeof c === "string" && c.trim() !== "");
  if (found === undefined) return undefined;
  const text = found.replace(/\s+/g, " ").trim();
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS - 1)}…` : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function attempt(
  backend: SearchBackend,
  query: string,
  maxResults: number,
  options: SearchRunOptions,
  signal: AbortSignal,
): Promise<SearchResultItem[] | AttemptFailure> {
  const { provider, secret } = backend;
  const call = backend.request(query, maxResults, options.userAgent);
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(call.url, {
      method: call.method,
      headers: call.headers,
      ...(call.body === undefined ? {} : { body: call.body }),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error; // the caller or the time limit: `runSearch` tells which
    const code = (error as NodeJS.ErrnoException).code;
    const message = redact(errorMessage(error), secret);
    const failure = new SearchFailure(
      provider,
      "unreachable",
      `web search provider unreachable: ${message}`,
      {
        cause: new Error(message),
      },
    );
    return {
      failure,
      retryAfterMs: typeof code === "string" && RESET_CODES.has(code) ? RETRY_DELAY_MS : undefined,
    };
  }
  const { statusCode, headers } = response;
  const ok = statusCode >= 200 && statusCode < 300;
  let body: Readable;
  try {
    body = decodeContent(response.body, headerValue(headers, "content-encoding"));
  } catch (error) {
    discard(response.body);
    const message = `web search provider's answer is unreadable: ${errorMessage(error)}`;
    return { failure: new SearchFailure(provider, "malformed", message), retryAfterMs: undefined };
  }
  const { bytes, truncated } = await readLimited(body, ok ? MAX_SEARCH_BODY : MAX_ERROR_BODY);
  discard(response.body);
  const text = bytes.toString("utf8");
  if (!ok) {
    const payload = parseJson(text);
    const own = backend.readStatus?.(statusCode, payload);
    const reason: SearchErrorReason = own?.reason ?? readStatus(statusCode);
    const detail = reason === "http_error" && statusCode < 500 ? errorDetail(payload) : undefined;
    const message = redact(`${statusMessage(reason, statusCode, detail)}${own?.hint ?? ""}`, secret);
    const failure = new SearchFailure(provider, reason, message, { status: statusCode });
    const wait =
      reason === "http_error" && statusCode >= 500
        ? RETRY_DELAY_MS
        : reason === "rate_limited"
          ? retryAfterMs(headerValue(headers, "retry-after"), Date.now())
          : undefined;
    return { failure, retryAfterMs: wait !== undefined && wait <= MAX_RETRY_AFTER_MS ? wait : undefined };
  }
  if (truncated) {
    const message = `web search provider's answer is larger than ${MAX_SEARCH_BODY} bytes`;
    return { failure: new SearchFailure(provider, "malformed", message), retryAfterMs: undefined };
  }
  const payload = parseJson(text);
  if (payload === undefined) {
    const failure = new SearchFailure(provider, "malformed", "web search provider returned invalid JSON");
    return { failure, retryAfterMs: undefined };
  }
  try {
    return backend.parse(payload, maxResults);
  } catch (error) {
    if (error instanceof SearchFailure) return { failure: error, retryAfterMs: undefined };
    throw error;
  }
}

function report(options: SearchRunOptions, failure: SearchFailure): SearchFailure {
  try {
    options.onSearchError?.(failure.provider, failure.reason);
  } catch {
    // a failing metric must not change what the model is told
  }
  return failure;
}

/**
 * Runs one search on a backend: one time limit for the whole search, a size limit on the answer,
 * and one retry after a 5xx, a reset connection, or a 429 that asks for at most a second's wait, when
 * the time limit leaves room for it. 401/402/403 and other 4xx are never retried. Throws a
 * SearchFailure (reported to `onSearchError`) the model can read, with the key never in it; rejects
 * with the signal's reason when `signal` aborts.
 */
export async function runSearch(
  backend: SearchBackend,
  query: string,
  maxResults: number,
  options: SearchRunOptions,
): Promise<SearchResultItem[]> {
  const { signal } = options;
  signal?.throwIfAborted();
  const deadline = Date.now() + options.timeoutMs;
  const { combined, timeout } = withTimeout(signal, options.timeoutMs);
  try {
    let outcome = await attempt(backend, query, maxResults, options, combined);
    if (!Array.isArray(outcome) && outcome.retryAfterMs !== undefined) {
      if (Date.now() + outcome.retryAfterMs < deadline) {
        await sleep(outcome.retryAfterMs, undefined, { signal: combined });
        outcome = await attempt(backend, query, maxResults, options, combined);
      }
    }
    if (Array.isArray(outcome)) return outcome;
    throw report(options, outcome.failure);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof SearchFailure) throw error;
    if (timeout.aborted) {
      const message = `web_search timed out after ${options.timeoutMs} ms`;
      throw report(options, new SearchFailure(backend.provider, "timeout", message));
    }
    const message = redact(errorMessage(error), backend.secret);
    throw report(
      options,
      new SearchFailure(backend.provider, "unreachable", `web search provider unreachable: ${message}`),
    );
  }
}
