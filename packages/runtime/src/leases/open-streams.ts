import { randomUUID } from "node:crypto";
import { LuaScript } from "../redis/lua-script.ts";
import type { RedisClient } from "../redis/redis.ts";
import { LeaseRenewer } from "./lease-renewer.ts";

/** See key-slot-acquire.lua (the same script as the fusion slots): `[taken, streams open]`. */
const streamAcquire = new LuaScript<
  [key: string, leaseMs: number, limit: number, streamId: string],
  [number, number]
>("fusionOpenStreamAcquire", new URL("./key-slot-acquire.lua", import.meta.url), 1);

export interface OpenStreamsOptions {
  /** Namespace of the Redis keys (the queue prefix, so deployments sharing a Redis stay apart). */
  prefix: string;
  /** Streams open at once per key, across every gateway; 0 turns the limit off. */
  max: number;
  /** An open stream not renewed for this long is no longer counted. Default 30 000. */
  leaseMs?: number;
  /** Longest an open stream is counted however long it stays open. */
  maxHoldMs: number;
  onRenewFailed?: (err: Error) => void;
}

/** An open stream's place in its key's count; `release` is idempotent. */
export interface OpenStream {
  release(): void;
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));

/**
 * Counts each API key's open SSE streams in Redis, so the cap holds across every gateway: a sorted set
 * per key of stream ids scored by the expiry of their lease, renewed while the stream is open and
 * removed when it ends. A gateway that dies stops renewing: its streams lapse after one lease.
 */
export class OpenStreams {
  readonly #redis: RedisClient;
  readonly #o: OpenStreamsOptions & { leaseMs: number };
  readonly #leases: LeaseRenewer;

  constructor(redis: RedisClient, options: OpenStreamsOptions) {
    this.#redis = redis;
    this.#o = { leaseMs: 30_000, ...options };
    this.#leases = new LeaseRenewer({ redis, leaseMs: this.#o.leaseMs, maxHoldMs: this.#o.maxHoldMs });
    this.#leases.on("expired", (lease) => {
      this.#redis.zrem(lease.key, lease.id).catch(() => {});
    });
    this.#leases.on("failed", (err) => this.#o.onRenewFailed?.(err));
  }

  get max(): number {
    return this.#o.max;
  }

  key(keyId: string): string {
    return `${this.#o.prefix}:limits:streams:${keyId}`;
  }

  /** Counts one more open stream of the key; undefined when `max` are open. Rejects on a Redis error. */
  async tryOpen(keyId: string): Promise<OpenStream | undefined> {
    if (this.#o.max <= 0) return { release() {} };
    const key = this.key(keyId);
    const id = randomUUID();
    const [ok] = await streamAcquire.run(this.#redis, key, this.#o.leaseMs, this.#o.max, id);
    if (num(ok) !== 1) return undefined;
    const lease = this.#leases.hold(key, id);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#leases.release(lease);
        this.#redis.zrem(key, id).catch(() => {});
      },
    };
  }

  /** Streams this process counts now (for tests and diagnostics). */
  get held(): number {
    return this.#leases.size;
  }

  /** Stops renewing; streams still counted lapse after one lease period. */
  close(): void {
    this.#leases.close();
  }
}
