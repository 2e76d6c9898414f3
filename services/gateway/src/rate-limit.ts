import { randomUUID } from "node:crypto";
import { type Logger, RENEW_LEASES_SCRIPT, type RedisClient } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app.ts";

/**
 * Per-key limits held in Redis, so that they hold across every gateway:
 *
 * - requests per minute: a sliding log (a sorted set of request ids scored by arrival time), pruned
 *   and counted in one Lua script;
 * - fusions in flight: a sorted set of fusion ids scored by the expiry of their lease. The gateway that
 *   holds a slot renews its lease while the fusion's response is open and removes it when the response
 *   ends (finished, client gone, error). A gateway that dies stops renewing: its slots lapse after one
 *   lease and every check prunes them, so no slot leaks.
 *
 * Scripts read the time from Redis (`TIME`), so gateways with skewed clocks agree. When Redis does not
 * answer, the limits fail open (logged): the request then fails or succeeds on its own merits.
 */

const RPM_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = window
  if oldest[2] then wait = tonumber(oldest[2]) + window - now end
  return {0, count, wait}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, count + 1, 0}
`;

const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  if count >= limit then return {0, count} end
  count = count + 1
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, count}
`;

export interface KeyLimitsOptions {
  /** Namespace of the Redis keys (the queue prefix, so deployments sharing a Redis stay apart). */
  prefix: string;
  /** Requests per window per key; 0 turns the limit off. */
  rpm: number;
  /** Fusions in flight per key; 0 turns the limit off. */
  maxConcurrent: number;
  /** Length of the request window. Default 60 000 (per minute). */
  windowMs?: number;
  /** A slot not renewed for this long is free again. Default 30 000; renewed every third of it. */
  leaseMs?: number;
  /** Longest a slot is held however long its response stays open. */
  maxHoldMs: number;
  /** Retry-After of a refusal for too many fusions in flight. Default 1. */
  concurrencyRetryAfterSeconds?: number;
  logger?: Logger;
}

export type LimitDecision =
  | { allowed: true; count: number }
  | { allowed: false; count: number; retryAfterMs: number };

/** A held fusion slot; `release` is idempotent. */
export interface FusionSlot {
  release(): void;
}

interface Lease {
  keyId: string;
  fusionId: string;
  until: number;
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));

export class KeyLimits {
  readonly #redis: RedisClient;
  readonly #o: Required<Omit<KeyLimitsOptions, "logger">> & { logger: Logger | undefined };
  readonly #leases = new Map<string, Lease>();
  #timer: NodeJS.Timeout | undefined;

  constructor(redis: RedisClient, options: KeyLimitsOptions) {
    this.#redis = redis;
    this.#o = {
      windowMs: 60_000,
      leaseMs: 30_000,
      concurrencyRetryAfterSeconds: 1,
      ...options,
      logger: options.logger,
    };
  }

  get logger(): Logger | undefined {
    return this.#o.logger;
  }

  get rpm(): number {
    return this.#o.rpm;
  }

  get maxConcurrent(): number {
    return this.#o.maxConcurrent;
  }

  rpmKey(keyId: string): string {
    return `${this.#o.prefix}:limits:rpm:${keyId}`;
  }

  fusionsKey(keyId: string): string {
    return `${this.#o.prefix}:limits:fusions:${keyId}`;
  }

  /** Counts one request of the key; refused when the window already holds `rpm` requests. */
  async hit(keyId: string): Promise<LimitDecision> {
    if (this.#o.rpm <= 0) return { allowed: true, count: 0 };
    const [ok, count, wait] = (await this.#redis.eval(
      RPM_SCRIPT,
      1,
      this.rpmKey(keyId),
      this.#o.windowMs,
      this.#o.rpm,
      randomUUID(),
    )) as unknown[];
    if (num(ok) === 1) return { allowed: true, count: num(count) };
    return { allowed: false, count: num(count), retryAfterMs: Math.max(1, num(wait)) };
  }

  /**
   * Takes a slot for one fusion of the key, or refuses when `maxConcurrent` are in flight. Taking the
   * same fusion id twice holds one slot.
   */
  async tryAcquire(keyId: string, fusionId: string): Promise<LimitDecision & { slot?: FusionSlot }> {
    if (this.#o.maxConcurrent <= 0) return { allowed: true, count: 0, slot: { release() {} } };
    const [ok, count] = (await this.#redis.eval(
      ACQUIRE_SCRIPT,
      1,
      this.fusionsKey(keyId),
      this.#o.leaseMs,
      this.#o.maxConcurrent,
      fusionId,
    )) as unknown[];
    if (num(ok) !== 1) {
      return { allowed: false, count: num(count), retryAfterMs: this.#o.concurrencyRetryAfterSeconds * 1000 };
    }
    const lease: Lease = { keyId, fusionId, until: Date.now() + this.#o.maxHoldMs };
    const id = `${keyId}\n${fusionId}`;
    this.#leases.set(id, lease);
    this.#startRenewing();
    let released = false;
    return {
      allowed: true,
      count: num(count),
      slot: {
        release: () => {
          if (released) return;
          released = true;
          if (this.#leases.get(id) === lease) this.#leases.delete(id);
          if (this.#leases.size === 0) this.#stopRenewing();
          this.#redis
            .zrem(this.fusionsKey(keyId), fusionId)
            .catch((err: Error) =>
              this.#o.logger?.warn({ err: err.message }, "could not release a fusion slot"),
            );
        },
      },
    };
  }

  /** Leases this process holds (for tests and diagnostics). */
  get held(): number {
    return this.#leases.size;
  }

  /** Extends every lease this process holds; drops those held longer than `maxHoldMs`. */
  async renew(): Promise<void> {
    const now = Date.now();
    const byKey = new Map<string, string[]>();
    for (const [id, lease] of this.#leases) {
      if (lease.until <= now) {
        this.#leases.delete(id);
        this.#redis.zrem(this.fusionsKey(lease.keyId), lease.fusionId).catch(() => {});
        continue;
      }
      const list = byKey.get(lease.keyId) ?? [];
      list.push(lease.fusionId);
      byKey.set(lease.keyId, list);
    }
    if (this.#leases.size === 0) this.#stopRenewing();
    await Promise.all(
      [...byKey].map(([keyId, ids]) =>
        this.#redis.eval(RENEW_LEASES_SCRIPT, 1, this.fusionsKey(keyId), this.#o.leaseMs, ...ids),
      ),
    );
  }

  /** Stops renewing; leases still held lapse after one lease period. */
  close(): void {
    this.#stopRenewing();
    this.#leases.clear();
  }

  #startRenewing(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => {
        this.renew().catch((err: Error) =>
          this.#o.logger?.warn({ err: err.message }, "could not renew fusion slots"),
        );
      },
      Math.max(10, Math.floor(this.#o.leaseMs / 3)),
    );
    this.#timer.unref();
  }

  #stopRenewing(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/**
 * Counts each API request against the key's per-minute limit (429 with Retry-After beyond it), offers
 * the limits to the route (see `acquireFusionSlot`) and releases the fusion slot the route took when
 * the response ends.
 */
export function keyLimitsMiddleware(limits: KeyLimits, logger?: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("keyLimits", limits);
    if (limits.rpm > 0) {
      let decision: LimitDecision | undefined;
      try {
        decision = await limits.hit(c.get("keyId"));
      } catch (err) {
        logger?.warn(
          { err: (err as Error).message },
          "rate limit unavailable (Redis): letting the request through",
        );
      }
      if (decision && !decision.allowed) {
        throw new FusionError(
          "rate_limited",
          `rate limit exceeded: at most ${limits.rpm} requests per minute for this API key`,
          {
            headers: { "retry-after": retryAfterSeconds(decision.retryAfterMs) },
            metadata: { limit: "requests_per_minute", max: limits.rpm },
          },
        );
      }
    }
    await next();
    const slot = c.get("fusionSlot");
    if (slot) c.res = releaseWhenDone(c.res, slot);
  };
}

/**
 * Takes a slot of the key's concurrent-fusion limit for this request's fusion, or throws 429. The slot is
 * released by `keyLimitsMiddleware` when the response ends; without that middleware this does nothing.
 */
export async function acquireFusionSlot(c: Context<AppEnv>, fusionId: string): Promise<void> {
  const limits = c.get("keyLimits");
  if (!limits || limits.maxConcurrent <= 0) return;
  let decision: Awaited<ReturnType<KeyLimits["tryAcquire"]>> | undefined;
  try {
    decision = await limits.tryAcquire(c.get("keyId"), fusionId);
  } catch (err) {
    // Fail open: enqueueing needs Redis too and reports its own failure.
    limits.logger?.warn({ err: (err as Error).message }, "concurrency limit unavailable (Redis)");
    return;
  }
  if (decision.slot) {
    c.set("fusionSlot", decision.slot);
    return;
  }
  throw new FusionError(
    "rate_limited",
    `too many fusions in flight for this API key (at most ${limits.maxConcurrent}); retry when one has finished`,
    {
      headers: { "retry-after": retryAfterSeconds(decision.allowed ? 1000 : decision.retryAfterMs) },
      metadata: { limit: "concurrent_fusions", max: limits.maxConcurrent },
    },
  );
}

/** The same response whose body calls `slot.release()` once it ends, fails or is cancelled. */
export function releaseWhenDone(res: Response, slot: FusionSlot): Response {
  if (!res.body) {
    slot.release();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          slot.release();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        slot.release();
        controller.error(err);
      }
    },
    cancel(reason) {
      slot.release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** The limits as `env.ts` configures them, on the gateway's command connection. */
export function keyLimitsFromEnv(deps: {
  redis: RedisClient;
  logger?: Logger;
  env: {
    QUEUE_PREFIX: string;
    RATE_LIMIT_RPM: number;
    MAX_CONCURRENT_FUSIONS: number;
    FUSION_TIMEOUT_MS: number;
  };
}): KeyLimits {
  return new KeyLimits(deps.redis, {
    prefix: deps.env.QUEUE_PREFIX,
    rpm: deps.env.RATE_LIMIT_RPM,
    maxConcurrent: deps.env.MAX_CONCURRENT_FUSIONS,
    // A response ends by FUSION_TIMEOUT_MS at the latest; the margin covers the final frames.
    maxHoldMs: deps.env.FUSION_TIMEOUT_MS + 60_000,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
