import { setTimeout as delay } from "node:timers/promises";

type HeaderValue = string | string[] | undefined;

/**
 * The wait an upstream asks for, in ms: `retry-after-ms` (OpenAI) first, then `Retry-After` as delta
 * seconds or as an HTTP date. Undefined when absent or unparsable.
 */
export function parseRetryAfter(headers: Record<string, HeaderValue>, now = Date.now()): number | undefined {
  const ms = firstValue(headers["retry-after-ms"]);
  if (ms !== undefined) {
    const n = Number(ms);
    if (ms !== "" && Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  const ra = firstValue(headers["retry-after"]);
  if (ra === undefined || ra === "") return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface BackoffOptions {
  retryBaseMs: number;
  retryMaxMs: number;
  random?: () => number;
}

/**
 * The wait before retry number `retry` (0 for the first retry): the upstream's Retry-After capped at
 * `retryMaxMs`, else full jitter, uniform in [0, min(retryMaxMs, retryBaseMs · 2^retry)].
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.retryMaxMs);
  const ceiling = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** retry);
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/** Sleeps `ms`, rejecting at once (with the signal's reason) when `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return;
  }
  await delay(ms, undefined, signal ? { signal } : undefined);
}

function firstValue(value: HeaderValue): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.trim();
}
