import { randomUUID } from "node:crypto";
import { type ConcurrencyLimiter, LimiterTimeoutError, type Permit } from "@fusion/llm-client";
import type { Logger } from "../logger.ts";
import { LuaScript } from "../redis/lua-script.ts";
import type { RedisClient } from "../redis/redis.ts";
import { LeaseRenewer } from "./lease-renewer.ts";

/**
 * A counting semaphore held in Redis, so that a limit holds across every process sharing that Redis
 * (gateways and workers). Three keys under one base key (which must carry the deployment's hash tag,
 * so that on a Redis Cluster they share a slot):
 *
 * - `:leases`: a sorted set of held permits scored by the expiry of their lease. The holder renews its
 *   leases while it runs and removes them when done; a crashed holder stops renewing, so its permits
 *   lapse after one lease and every acquisition prunes them.
 * - `:queue` and `:waiters`: the callers waiting, by arrival (first come, first served) and by the
 *   expiry of their heartbeat: a waiter that stops polling (it crashed, or gave up) leaves the queue.
 *
 * A waiter polls: the head of the queue often, those further back less often; a permit released in
 * the same process wakes its waiters at once. Scripts read the time from Redis (`TIME`), so processes
 * with skewed clocks agree. When Redis fails, an acquisition fails closed: it keeps trying, backing off,
 * until its timeout, then rejects with SemaphoreUnavailableError; it never goes ahead without a permit.
 *
 * Why ours rather than a Redis lock library: those give mutexes or unordered counting semaphores that
 * waiters race for; a provider's `max_concurrency` needs first come, first served across processes
 * (so a long queue drains in order and no call starves), leases renewed by one renewer per process,
 * and Redis's clock for every expiry.
 */

/** See semaphore-acquire.lua: `[granted, waiters ahead]`. */
const acquireScript = new LuaScript<
  [leases: string, queue: string, waiters: string, limit: number, leaseMs: number, ttlMs: number, id: string],
  [number, number]
>("fusionSemaphoreAcquire", new URL("./semaphore-acquire.lua", import.meta.url), 3);

/** See semaphore-release.lua. */
const releaseScript = new LuaScript<[leases: string, queue: string, waiters: string, id: string], number>(
  "fusionSemaphoreRelease",
  new URL("./semaphore-release.lua", import.meta.url),
  3,
);

export interface RedisSemaphoreOptions {
  redis: RedisClient;
  /** Base of the three keys, e.g. `{fusion}:provider:local-gpu`. */
  key: string;
  /** Permits at once across every process. */
  limit: number;
  /** A permit not renewed for this long is free again. Default 15 000; renewed every third of it. */
  leaseMs?: number;
  /** Longest a permit is renewed however long its holder keeps it (a leaked permit lapses then). Default 1 h. */
  maxHoldMs?: number;
  /** Polling interval of the head of the queue; those further back poll up to `maxPollMs`. Defaults 25, 500. */
  minPollMs?: number;
  maxPollMs?: number;
  logger?: Logger;
  /** Named in logs and errors. */
  name?: string;
}

export class SemaphoreTimeoutError extends LimiterTimeoutError {
  override name = "SemaphoreTimeoutError";
}

/** Redis did not answer (or failed) until the acquisition's timeout: no permit, never a no-op one. */
export class SemaphoreUnavailableError extends SemaphoreTimeoutError {
  override name = "SemaphoreUnavailableError";
}

/** Backoff between attempts while Redis fails: from the first to the last, doubling, with jitter. */
const REDIS_RETRY_FIRST_MS = 50;
const REDIS_RETRY_MAX_MS = 2_000;

type Attempt = { granted: true } | { granted: false; ahead: number } | { granted: false; error: Error };

export class RedisSemaphore implements ConcurrencyLimiter {
  readonly #redis: RedisClient;
  readonly #keys: [string, string, string];
  readonly #limit: number;
  readonly #leaseMs: number;
  readonly #minPollMs: number;
  readonly #maxPollMs: number;
  readonly #waiterTtlMs: number;
  readonly #logger: Logger | undefined;
  readonly #name: string;
  readonly #leases: LeaseRenewer;
  /** Wakes this process's waiters (a permit was released here). */
  readonly #wakers = new Set<() => void>();

  constructor(options: RedisSemaphoreOptions) {
    this.#redis = options.redis;
    this.#keys = [`${options.key}:leases`, `${options.key}:queue`, `${options.key}:waiters`];
    this.#limit = options.limit;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#minPollMs = options.minPollMs ?? 25;
    this.#maxPollMs = options.maxPollMs ?? 500;
    this.#waiterTtlMs = Math.max(5_000, this.#maxPollMs * 4);
    this.#logger = options.logger;
    this.#name = options.name ?? options.key;
    this.#leases = new LeaseRenewer({
      redis: options.redis,
      leaseMs: this.#leaseMs,
      maxHoldMs: options.maxHoldMs ?? 3_600_000,
    });
    this.#leases.on("expired", (lease) => {
      this.#logger?.warn({ semaphore: this.#name }, "dropping a concurrency slot held too long");
      void this.#release(lease.id);
    });
    this.#leases.on("failed", (err) =>
      this.#logger?.warn({ err: err.message, semaphore: this.#name }, "cannot renew concurrency slots"),
    );
  }

  get limit(): number {
    return this.#limit;
  }

  /** Permits this process holds. */
  get held(): number {
    return this.#leases.size;
  }

  /**
   * Waits for a permit, first come first served across processes. Rejects with the signal's reason
   * when it aborts, or SemaphoreTimeoutError after `timeoutMs` (SemaphoreUnavailableError when Redis
   * was failing: the caller waited for it, it did not go ahead without a permit).
   */
  async acquire(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Permit> {
    const { signal } = options;
    const id = randomUUID();
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    signal?.throwIfAborted();
    let failures = 0;
    let lastError: Error | undefined;
    try {
      for (;;) {
        const attempt = await this.#attempt(id, deadline, signal);
        signal?.throwIfAborted();
        if (attempt.granted) return this.#hold(id);
        let pause: number;
        if ("error" in attempt) {
          if (failures === 0) {
            this.#logger?.warn(
              { err: attempt.error.message, semaphore: this.#name },
              "cannot reach Redis for a concurrency slot: waiting for it (no call goes ahead without a slot)",
            );
          }
          lastError = attempt.error;
          pause = Math.min(REDIS_RETRY_MAX_MS, REDIS_RETRY_FIRST_MS * 2 ** Math.min(failures, 10));
          failures++;
        } else {
          failures = 0;
          lastError = undefined;
          pause = Math.min(this.#maxPollMs, this.#minPollMs * (1 + Math.max(0, attempt.ahead)));
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          const what = `no free slot of ${this.#name} (limit ${this.#limit}) within ${options.timeoutMs} ms`;
          if (lastError)
            throw new SemaphoreUnavailableError(`${what}: Redis unavailable (${lastError.message})`);
          throw new SemaphoreTimeoutError(what);
        }
        await this.#sleep(Math.min(left, pause * (0.75 + Math.random() / 2)), signal);
        signal?.throwIfAborted();
      }
    } catch (err) {
      void this.#release(id);
      throw err;
    }
  }

  /** One try at the script, bounded by the deadline and the signal (a connection may queue commands). */
  async #attempt(id: string, deadline: number, signal: AbortSignal | undefined): Promise<Attempt> {
    const call = acquireScript.run(
      this.#redis,
      ...this.#keys,
      this.#limit,
      this.#leaseMs,
      this.#waiterTtlMs,
      id,
    );
    let stop: (() => void) | undefined;
    const bounded = new Promise<Attempt>((resolve) => {
      const left = deadline - Date.now();
      const timer = Number.isFinite(left)
        ? setTimeout(
            () => resolve({ granted: false, error: new Error("no answer from Redis") }),
            Math.max(0, left),
          )
        : undefined;
      const aborted = () => resolve({ granted: false, error: new Error("aborted") });
      signal?.addEventListener("abort", aborted, { once: true });
      stop = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", aborted);
      };
    });
    try {
      return await Promise.race([
        call.then(
          ([granted, ahead]): Attempt =>
            Number(granted) === 1 ? { granted: true } : { granted: false, ahead: Number(ahead) },
          (err: unknown): Attempt => ({
            granted: false,
            error: err instanceof Error ? err : new Error(String(err)),
          }),
        ),
        bounded,
      ]);
    } finally {
      stop?.();
    }
  }

  /** Runs `fn` with a permit held, releasing it when `fn` settles. */
  async run<T>(fn: () => Promise<T>, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    const permit = await this.acquire(options);
    try {
      return await fn();
    } finally {
      permit.release();
    }
  }

  /** Extends every lease this process holds; drops those held longer than `maxHoldMs`. */
  renew(): Promise<void> {
    return this.#leases.renew();
  }

  /** Stops renewing and forgets the permits held: they lapse after one lease (as after a crash). */
  close(): void {
    this.#leases.close();
  }

  #hold(id: string): Permit {
    const lease = this.#leases.hold(this.#keys[0], id);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (!this.#leases.release(lease)) return;
        this.#release(id).then(() => {
          for (const wake of this.#wakers) wake();
        });
      },
    };
  }

  #release(id: string): Promise<void> {
    return releaseScript.run(this.#redis, ...this.#keys, id).then(
      () => undefined,
      (err: Error) =>
        this.#logger?.warn({ err: err.message, semaphore: this.#name }, "cannot release a concurrency slot"),
    );
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
