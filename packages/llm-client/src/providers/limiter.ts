/**
 * What the provider router needs to hold a provider's concurrency limit (`max_concurrency`): a
 * limiter per provider, injected by whoever builds the router. The runtime supplies one held in Redis,
 * so that the limit holds across every process; tests may supply their own.
 */
export interface ConcurrencyLimiter {
  /**
   * Waits for a permit. Rejects with the signal's reason when it aborts, or with
   * `LimiterTimeoutError` when none is free within `timeoutMs`.
   */
  acquire(options: { signal?: AbortSignal; timeoutMs?: number }): Promise<Permit>;
  /** Stops renewing what is held; held permits lapse as after a crash. */
  close(): void;
}

/** A held permit; `release` is idempotent. */
export interface Permit {
  release(): void;
}

/** Makes the limiter of one provider: `name` is the provider's, `limit` its `max_concurrency`. */
export type LimiterFactory = (name: string, limit: number) => ConcurrencyLimiter;

export class LimiterTimeoutError extends Error {
  override name = "LimiterTimeoutError";
}
