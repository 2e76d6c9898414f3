import { CANCEL_CHANNEL, keys } from "./redis/keys.ts";
import type { RedisClient } from "./redis/redis.ts";

/** Announces that a fusion is cancelled: a key for jobs that start later, a message for those running. */
export async function cancelFusion(redis: RedisClient, fusionId: string, ttlSeconds = 3600): Promise<void> {
  await redis
    .multi()
    .set(keys.cancelled(fusionId), "1", "EX", ttlSeconds)
    .publish(CANCEL_CHANNEL, fusionId)
    .exec();
}

export async function isCancelled(redis: RedisClient, fusionId: string): Promise<boolean> {
  return (await redis.exists(keys.cancelled(fusionId))) === 1;
}

/**
 * The worker side: one subscriber connection per process; jobs register an AbortController under
 * their fusion id and it aborts when a cancellation arrives, which aborts their upstream requests.
 */
export class CancelListener {
  readonly #controllers = new Map<string, Set<AbortController>>();
  readonly #sub: RedisClient;

  constructor(subscriber: RedisClient) {
    this.#sub = subscriber;
    this.#sub.on("message", (channel: string, fusionId: string) => {
      if (channel !== CANCEL_CHANNEL) return;
      for (const c of this.#controllers.get(fusionId) ?? [])
        c.abort(new Error("fusion cancelled by the client"));
    });
  }

  start(): Promise<unknown> {
    return this.#sub.subscribe(CANCEL_CHANNEL);
  }

  /** Returns a controller that aborts on cancellation or when `parent` aborts; call the release function when done. */
  register(fusionId: string, parent?: AbortSignal): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    let set = this.#controllers.get(fusionId);
    if (!set) {
      set = new Set();
      this.#controllers.set(fusionId, set);
    }
    set.add(controller);
    const onParent = () => controller.abort(parent?.reason);
    if (parent?.aborted) controller.abort(parent.reason);
    parent?.addEventListener("abort", onParent);
    return {
      signal: controller.signal,
      release: () => {
        parent?.removeEventListener("abort", onParent);
        set.delete(controller);
        if (set.size === 0) this.#controllers.delete(fusionId);
      },
    };
  }

  close(): void {
    this.#sub.disconnect();
  }
}
