import { EventEmitter } from "node:events";
import { LuaScript } from "../redis/lua-script.ts";
import type { RedisClient } from "../redis/redis.ts";

/** See renew-leases.lua. */
const renewLeases = new LuaScript<[key: string, leaseMs: number, ...ids: string[]], number>(
  "fusionRenewLeases",
  new URL("./renew-leases.lua", import.meta.url),
  1,
);

/** A lease this process holds: a member `id` of the sorted set `key`, scored by its expiry. */
export interface HeldLease {
  readonly key: string;
  readonly id: string;
  /** Local time after which the lease is no longer renewed (`maxHoldMs` after it was taken). */
  readonly until: number;
}

export interface LeaseRenewerOptions {
  redis: RedisClient;
  /** A lease not renewed for this long lapses; held leases are renewed every third of it. */
  leaseMs: number;
  /** Longest a lease is renewed however long its holder keeps it (a leaked lease lapses then). */
  maxHoldMs: number;
}

export type LeaseRenewerEvents = {
  /** A renewal failed (Redis did not answer): the leases lapse unless a later renewal succeeds. */
  failed: [err: Error];
  /** A lease was held longer than `maxHoldMs` and is no longer renewed: its owner should delete it. */
  expired: [lease: HeldLease];
};

/**
 * Keeps the leases a process holds in Redis alive (as BullMQ's lock manager does for job locks): it
 * tracks them, renews them all on one interval while any is held, and tells its owner when renewing
 * failed or when a lease was held too long. A process that dies stops renewing, so its leases lapse
 * after one lease period and whoever counts them prunes them.
 */
export class LeaseRenewer extends EventEmitter<LeaseRenewerEvents> {
  readonly #redis: RedisClient;
  readonly #leaseMs: number;
  readonly #maxHoldMs: number;
  /** By key, then by id. */
  readonly #held = new Map<string, Map<string, HeldLease>>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LeaseRenewerOptions) {
    super();
    this.#redis = options.redis;
    this.#leaseMs = options.leaseMs;
    this.#maxHoldMs = options.maxHoldMs;
  }

  /** Leases held now. */
  get size(): number {
    return this.#count;
  }

  /** Starts renewing a lease just taken in Redis; taking the same one again replaces it. */
  hold(key: string, id: string): HeldLease {
    const lease: HeldLease = { key, id, until: Date.now() + this.#maxHoldMs };
    const ids = this.#held.get(key) ?? new Map<string, HeldLease>();
    if (!ids.has(id)) this.#count++;
    ids.set(id, lease);
    this.#held.set(key, ids);
    this.#start();
    return lease;
  }

  /** Stops renewing `lease` (unless it was taken again since); true when it was held. */
  release(lease: HeldLease): boolean {
    const ids = this.#held.get(lease.key);
    if (ids?.get(lease.id) !== lease) return false;
    this.#forget(lease);
    return true;
  }

  /** Extends every lease held; those held longer than `maxHoldMs` are dropped (`expired`). */
  async renew(): Promise<void> {
    const now = Date.now();
    const batches: Array<[string, string[]]> = [];
    for (const [key, ids] of this.#held) {
      const live: string[] = [];
      for (const lease of ids.values()) {
        if (lease.until > now) live.push(lease.id);
        else {
          this.#forget(lease);
          this.emit("expired", lease);
        }
      }
      if (live.length > 0) batches.push([key, live]);
    }
    await Promise.all(batches.map(([key, ids]) => renewLeases.run(this.#redis, key, this.#leaseMs, ...ids)));
  }

  /** Stops renewing and forgets every lease: they lapse after one lease period, as after a crash. */
  close(): void {
    this.#stop();
    this.#held.clear();
    this.#count = 0;
  }

  #forget(lease: HeldLease): void {
    const ids = this.#held.get(lease.key);
    if (!ids?.delete(lease.id)) return;
    this.#count--;
    if (ids.size === 0) this.#held.delete(lease.key);
    if (this.#count === 0) this.#stop();
  }

  #start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => {
        this.renew().catch((err: Error) => this.emit("failed", err));
      },
      Math.max(10, Math.floor(this.#leaseMs / 3)),
    );
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
