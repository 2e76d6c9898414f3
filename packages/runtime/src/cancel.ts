import { CANCEL_CHANNEL, keys } from "./redis/keys.ts";
import { LuaScript } from "./redis/lua-script.ts";
import type { RedisClient } from "./redis/redis.ts";

/** How long the cancel key lives: longer than any job of the fusion may still start. */
const CANCEL_TTL_SECONDS = 3600;

/** Announces that a fusion is cancelled: a key for jobs that start later, a message for those running. */
export async function cancelFusion(
  redis: RedisClient,
  fusionId: string,
  ttlSeconds = CANCEL_TTL_SECONDS,
): Promise<void> {
  await redis
    .multi()
    .set(keys.cancelled(fusionId), "1", "EX", ttlSeconds)
    .publish(CANCEL_CHANNEL, fusionId)
    .exec();
}

/** See cancel-fusion.lua. */
const cancelAndEnd = new LuaScript<
  [
    events: string,
    meta: string,
    cancelled: string,
    streamTtl: number,
    cancelTtl: number,
    channel: string,
    cancelChannel: string,
    fusionId: string,
    chunk: string,
    error: string,
  ],
  number
>("fusionCancelAndEnd", new URL("./cancel-fusion.lua", import.meta.url), 3);

/** The HTTP status of a cancelled fusion's error: nginx's "client closed request". */
export const CANCELLED_STATUS = 499;
const CANCELLED_MESSAGE = "the fusion was cancelled";

export interface CancelledStream {
  /** The fusion's `created` (seconds) and model, for the error chunk. */
  created: number;
  model: string;
  /** How long the stream is kept after this last entry (`STREAM_RETENTION_SECONDS`). */
  streamTtlSeconds: number;
}

/**
 * Cancels a fusion on request (`POST /fusions/{id}/cancel`), in one step: what `cancelFusion` does
 * (running jobs abort their upstream calls, later ones do not start), and its stream ends at once for
 * every reader with an error chunk (`finish_reason: "error"`, `error.code: "cancelled"`, status 499)
 * and the `error` entry (marked `cancelled`), so nothing more is appended to it. A fusion whose stream
 * already ended (done, failed or cancelled) is left as it is. Resolves to whether it was cancelled.
 */
export async function cancelAndEndFusion(
  redis: RedisClient,
  fusionId: string,
  stream: CancelledStream,
): Promise<boolean> {
  const chunk = {
    id: fusionId,
    object: "chat.completion.chunk",
    created: stream.created,
    model: stream.model,
    choices: [{ index: 0, delta: {}, finish_reason: "error" }],
    error: { code: "cancelled", status: CANCELLED_STATUS, message: CANCELLED_MESSAGE },
  };
  const error = { status: CANCELLED_STATUS, message: CANCELLED_MESSAGE, cancelled: true };
  const done = await cancelAndEnd.run(
    redis,
    keys.events(fusionId),
    keys.meta(fusionId),
    keys.cancelled(fusionId),
    stream.streamTtlSeconds,
    CANCEL_TTL_SECONDS,
    keys.eventsChannel(fusionId),
    CANCEL_CHANNEL,
    fusionId,
    JSON.stringify(chunk),
    JSON.stringify(error),
  );
  return done === 1;
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
