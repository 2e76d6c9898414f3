import type { FusionSlot, KeyLimits, Logger, RedisClient } from "@fusion/runtime";
import { isTerminal, readFusionState } from "../sse/fusion-state.ts";

export interface FusionSlotsOptions {
  redis: RedisClient;
  limits: KeyLimits;
  logger: Logger;
  /** Longest a slot is kept for a fusion that never reaches its terminal event (as `KeyLimits`). */
  maxHoldMs: number;
  /** How often the fusions of the held slots are checked for their terminal event. Default 1000. */
  checkEveryMs?: number;
}

interface Held {
  owner: string;
  slot: FusionSlot;
  until: number;
}

/**
 * The concurrent-fusion slots this gateway took: each is held from the enqueue to the fusion's terminal
 * event (done, failed, cancelled), whatever connections come and go, while `KeyLimits` renews its
 * lease. Whoever sees the end calls `settle` (the POST's stream or answer, a resumed stream on any
 * gateway, a cancel); a periodic check covers fusions nobody reads. A Redis error keeps the slot (fail
 * closed); should this gateway die, its slots lapse after one lease.
 */
export class FusionSlots {
  readonly #o: FusionSlotsOptions;
  readonly #held = new Map<string, Held>();
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(options: FusionSlotsOptions) {
    this.#o = options;
  }

  /** Slots held by this gateway now. */
  get size(): number {
    return this.#held.size;
  }

  /** Keeps `slot` until the fusion ends. */
  hold(fusionId: string, owner: string, slot: FusionSlot): void {
    this.#held.get(fusionId)?.slot.release();
    this.#held.set(fusionId, { owner, slot, until: Date.now() + this.#o.maxHoldMs });
    this.#start();
  }

  /** The fusion was never enqueued: its slot is free at once. */
  drop(fusionId: string): void {
    this.#release(fusionId);
  }

  /**
   * Frees the fusion's slot if the fusion has ended, whichever gateway holds it; `owner` is the key that
   * started it. Never rejects: a Redis error leaves the slot held (the periodic check tries again).
   */
  async settle(fusionId: string, owner: string): Promise<void> {
    if (this.#o.limits.maxConcurrent <= 0) return;
    try {
      if (!isTerminal(await readFusionState(this.#o.redis, fusionId))) return;
      if (this.#release(fusionId)) return;
      await this.#o.limits.releaseFusion(owner, fusionId);
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message, fusionId }, "could not settle a fusion slot");
    }
  }

  /** Settles every slot held here; drops those held longer than `maxHoldMs`. */
  async check(): Promise<void> {
    // Redis away: every slot stays held until it answers again (or its lease lapses).
    if (this.#o.redis.status !== "ready") return;
    const now = Date.now();
    const open: Array<Promise<void>> = [];
    for (const [fusionId, held] of this.#held) {
      if (held.until <= now) this.#release(fusionId);
      else open.push(this.settle(fusionId, held.owner));
    }
    await Promise.all(open);
  }

  /** Stops checking; the slots' leases lapse (see `KeyLimits.close`). */
  close(): void {
    this.#stop();
    this.#held.clear();
  }

  #release(fusionId: string): boolean {
    const held = this.#held.get(fusionId);
    if (!held) return false;
    this.#held.delete(fusionId);
    held.slot.release();
    if (this.#held.size === 0) this.#stop();
    return true;
  }

  #start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#checking) return;
      this.#checking = true;
      void this.check().finally(() => {
        this.#checking = false;
      });
    }, this.#o.checkEveryMs ?? 1000);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
