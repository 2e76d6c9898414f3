import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.ts";
import { LuaScript } from "../redis/lua-script.ts";
import type { RedisClient } from "../redis/redis.ts";
import { LeaseRenewer } from "./lease-renewer.ts";

/**
 * Per-API-key limits held in Redis, so that they hold across every gateway:
 *
 * - requests per minute: a sliding log (a sorted set of request ids scored by arrival time), pruned
 *   and counted in one Lua script;
 * - fusions in flight: a sorted set of fusion ids scored by the expiry of their lease. The gateway that
 *   took a slot renews its lease until the fusion reaches its terminal event (done, failed, cancelled),
 *   whatever connections come and go; whoever sees that event releases it (`release`, or
 *   `releaseFusion` from any gateway). A gateway that dies stops renewing: its slots lapse after one
 *   lease and every check prunes them, so no slot leaks.
 *
 * Scripts read the time from Redis (`TIME`), so gateways with skewed clocks agree. A Redis error
 * rejects `hit` and `tryAcquire`: the caller decides (the gateway lets the request through).
 */

/** See key-request-window.lua: `[counted, count, wait ms]`. */
const requestWindow = new LuaScript<
  [key: string, windowMs: number, limit: number, requestId: string],
  [number, number, number]
>("fusionKeyRequestWindow", new URL("./key-request-window.lua", import.meta.url), 1);

/** See key-slot-acquire.lua: `[taken, slots held]`. */
const slotAcquire = new LuaScript<
  [key: string, leaseMs: number, limit: number, fusionId: string],
  [number, number]
>("fusionKeySlotAcquire", new URL("./key-slot-acquire.lua", import.meta.url), 1);

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

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));

export class KeyLimits {
  readonly #redis: RedisClient;
  readonly #o: Required<Omit<KeyLimitsOptions, "logger">> & { logger: Logger | undefined };
  readonly #leases: LeaseRenewer;

  constructor(redis: RedisClient, options: KeyLimitsOptions) {
    this.#redis = redis;
    this.#o = {
      windowMs: 60_000,
      leaseMs: 30_000,
      concurrencyRetryAfterSeconds: 1,
      ...options,
      logger: options.logger,
    };
    this.#leases = new LeaseRenewer({ redis, leaseMs: this.#o.leaseMs, maxHoldMs: this.#o.maxHoldMs });
    this.#leases.on("expired", (lease) => {
      this.#redis.zrem(lease.key, lease.id).catch(() => {});
    });
    this.#leases.on("failed", (err) =>
      this.#o.logger?.warn({ err: err.message }, "could not renew fusion slots"),
    );
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

  get maxHoldMs(): number {
    return this.#o.maxHoldMs;
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
    const [ok, count, wait] = await requestWindow.run(
      this.#redis,
      this.rpmKey(keyId),
      this.#o.windowMs,
      this.#o.rpm,
      randomUUID(),
    );
    if (num(ok) === 1) return { allowed: true, count: num(count) };
    return { allowed: false, count: num(count), retryAfterMs: Math.max(1, num(wait)) };
  }

  /**
   * Takes a slot for one fusion of the key, or refuses when `maxConcurrent` are in flight. Taking the
   * same fusion id twice holds one slot.
   */
  async tryAcquire(keyId: string, fusionId: string): Promise<LimitDecision & { slot?: FusionSlot }> {
    if (this.#o.maxConcurrent <= 0) return { allowed: true, count: 0, slot: { release() {} } };
    const key = this.fusionsKey(keyId);
    const [ok, count] = await slotAcquire.run(
      this.#redis,
      key,
      this.#o.leaseMs,
      this.#o.maxConcurrent,
      fusionId,
    );
    if (num(ok) !== 1) {
      return { allowed: false, count: num(count), retryAfterMs: this.#o.concurrencyRetryAfterSeconds * 1000 };
    }
    const lease = this.#leases.hold(key, fusionId);
    let released = false;
    return {
      allowed: true,
      count: num(count),
      slot: {
        release: () => {
          if (released) return;
          released = true;
          this.#leases.release(lease);
          this.#redis
            .zrem(key, fusionId)
            .catch((err: Error) =>
              this.#o.logger?.warn({ err: err.message }, "could not release a fusion slot"),
            );
        },
      },
    };
  }

  /**
   * Frees the slot of a fusion of the key, held by this process or another (seen finished from
   * anywhere). The holder's renewal does not take it back (renew-leases.lua extends existing leases only).
   */
  async releaseFusion(keyId: string, fusionId: string): Promise<void> {
    if (this.#o.maxConcurrent <= 0) return;
    await this.#redis.zrem(this.fusionsKey(keyId), fusionId);
  }

  /** Leases this process holds (for tests and diagnostics). */
  get held(): number {
    return this.#leases.size;
  }

  /** Extends every lease this process holds; drops those held longer than `maxHoldMs`. */
  renew(): Promise<void> {
    return this.#leases.renew();
  }

  /** Stops renewing; leases still held lapse after one lease period. */
  close(): void {
    this.#leases.close();
  }
}
