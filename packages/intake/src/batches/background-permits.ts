import type { RedisClient } from "@fusion/runtime";
import { batchKeys } from "./batch-keys.ts";
import { backgroundAcquire } from "./batch-scripts.ts";

/**
 * The per-key cap on background fusions in flight (BATCH_MAX_IN_FLIGHT_PER_KEY), across every worker:
 * a permit per fusion, held until the fusion ends or, should its holder die, until `holdMs` passes.
 * Taking the permit a fusion already holds succeeds (a line run again keeps its permit). Fails
 * closed: an error reaching Redis is thrown, never taken as a permit.
 */
export class BackgroundPermits {
  readonly #redis: RedisClient;
  readonly #max: number;
  readonly #holdMs: number;

  constructor(redis: RedisClient, options: { max: number; holdMs: number }) {
    this.#redis = redis;
    this.#max = options.max;
    this.#holdMs = options.holdMs;
  }

  /** Takes the fusion's permit; false when the owner holds the most allowed. */
  async acquire(owner: string, fusionId: string): Promise<boolean> {
    const now = Date.now();
    const key = batchKeys.backgroundFusions(owner);
    return (
      (await backgroundAcquire.run(this.#redis, key, now, now + this.#holdMs, this.#max, fusionId)) === 1
    );
  }

  async release(owner: string, fusionId: string): Promise<void> {
    await this.#redis.zrem(batchKeys.backgroundFusions(owner), fusionId);
  }
}
