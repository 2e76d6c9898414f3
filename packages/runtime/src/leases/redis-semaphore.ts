import { randomUUID } from "node:crypto";
import { type ConcurrencyLimiter, LimiterTimeoutError, type Permit } from "@fusion/llm-client";
import type { Logger } from "../logger.ts";
import { RENEW_LEASES_SCRIPT } from "./lease-scripts.ts";

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
 * with skewed clocks agree. When Redis fails, an acquisition fails open (logged).
 */

const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(nowUs / 1000)
local limit = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local id = ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, w in ipairs(gone) do
  redis.call('ZREM', KEYS[3], w)
  redis.call('ZREM', KEYS[2], w)
end
if redis.call('ZSCORE', KEYS[1], id) then
  redis.call('ZADD', KEYS[1], now + lease, id)
  redis.call('PEXPIRE', KEYS[1], lease)
  return {1, 0}
end
if not redis.call('ZSCORE', KEYS[2], id) then redis.call('ZADD', KEYS[2], nowUs, id) end
local held = redis.call('ZCARD', KEYS[1])
local rank = redis.call('ZRANK', KEYS[2], id)
if held + rank < limit then
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[1], now + lease, id)
  redis.call('PEXPIRE', KEYS[1], lease)
  return {1, 0}
end
redis.call('ZADD', KEYS[3], now + ttl, id)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {0, held + rank - limit}
`;

const RELEASE_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

/** The one command the semaphore needs; a single Redis and a Cluster both have it. */
export interface SemaphoreRedis {
  eval(script: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
}

export interface RedisSemaphoreOptions {
  redis: SemaphoreRedis;
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

interface Held {
  id: string;
  until: number;
}

export class RedisSemaphore implements ConcurrencyLimiter {
  readonly #redis: SemaphoreRedis;
  readonly #keys: [string, string, string];
  readonly #limit: number;
  readonly #leaseMs: number;
  readonly #maxHoldMs: number;
  readonly #minPollMs: number;
  readonly #maxPollMs: number;
  readonly #waiterTtlMs: number;
  readonly #logger: Logger | undefined;
  readonly #name: string;
  readonly #held = new Map<string, Held>();
  /** Wakes this process's waiters (a permit was released here). */
  readonly #wakers = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RedisSemaphoreOptions) {
    this.#redis = options.redis;
    this.#keys = [`${options.key}:leases`, `${options.key}:queue`, `${options.key}:waiters`];
    this.#limit = options.limit;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#maxHoldMs = options.maxHoldMs ?? 3_600_000;
    this.#minPollMs = options.minPollMs ?? 25;
    this.#maxPollMs = options.maxPollMs ?? 500;
    this.#waiterTtlMs = Math.max(5_000, this.#maxPollMs * 4);
    this.#logger = options.logger;
    this.#name = options.name ?? options.key;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Permits this process holds. */
  get held(): number {
    return this.#held.size;
  }

  /**
   * Waits for a permit, first come first served across processes. Rejects with the signal's reason
   * when it aborts, or SemaphoreTimeoutError after `timeoutMs`.
   */
  async acquire(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Permit> {
    const { signal } = options;
    const id = randomUUID();
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    signal?.throwIfAborted();
    try {
      for (;;) {
        let ahead: number;
        try {
          const [granted, behind] = (await this.#redis.eval(
            ACQUIRE_SCRIPT,
            3,
            ...this.#keys,
            this.#limit,
            this.#leaseMs,
            this.#waiterTtlMs,
            id,
          )) as unknown[];
          if (Number(granted) === 1) return this.#hold(id);
          ahead = Number(behind);
        } catch (err) {
          this.#logger?.warn(
            { err: (err as Error).message, semaphore: this.#name },
            "cannot reach Redis for a concurrency slot: going ahead without one",
          );
          return { release() {} };
        }
        signal?.throwIfAborted();
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new SemaphoreTimeoutError(
            `no free slot of ${this.#name} (limit ${this.#limit}) within ${options.timeoutMs} ms`,
          );
        }
        const base = Math.min(this.#maxPollMs, this.#minPollMs * (1 + Math.max(0, ahead)));
        await this.#sleep(Math.min(left, base * (0.75 + Math.random() / 2)), signal);
        signal?.throwIfAborted();
      }
    } catch (err) {
      this.#eval(RELEASE_SCRIPT, id);
      throw err;
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
  async renew(): Promise<void> {
    const now = Date.now();
    const ids: string[] = [];
    for (const held of this.#held.values()) {
      if (held.until <= now) {
        this.#held.delete(held.id);
        this.#logger?.warn({ semaphore: this.#name }, "dropping a concurrency slot held too long");
        this.#eval(RELEASE_SCRIPT, held.id);
      } else ids.push(held.id);
    }
    if (ids.length === 0) {
      this.#stopRenewing();
      return;
    }
    await this.#redis.eval(RENEW_LEASES_SCRIPT, 1, this.#keys[0], this.#leaseMs, ...ids);
  }

  /** Stops renewing and forgets the permits held: they lapse after one lease (as after a crash). */
  close(): void {
    this.#stopRenewing();
    this.#held.clear();
  }

  #hold(id: string): Permit {
    this.#held.set(id, { id, until: Date.now() + this.#maxHoldMs });
    this.#startRenewing();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (!this.#held.delete(id)) return;
        if (this.#held.size === 0) this.#stopRenewing();
        this.#eval(RELEASE_SCRIPT, id).then(() => {
          for (const wake of this.#wakers) wake();
        });
      },
    };
  }

  #eval(script: string, id: string): Promise<void> {
    return this.#redis.eval(script, 3, ...this.#keys, id).then(
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

  #startRenewing(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => {
        this.renew().catch((err: Error) =>
          this.#logger?.warn({ err: err.message, semaphore: this.#name }, "cannot renew concurrency slots"),
        );
      },
      Math.max(10, Math.floor(this.#leaseMs / 3)),
    );
    this.#timer.unref();
  }

  #stopRenewing(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
