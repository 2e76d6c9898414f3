import { cancelFusion, keys, type Logger, type RedisClient } from "@fusion/runtime";

/**
 * Counts the clients reading each fusion's stream, in Redis so that every gateway sees them, and
 * cancels a fusion its client left once the resume grace period passes with no reader back.
 */
export class Readers {
  readonly #redis: RedisClient;
  readonly #logger: Logger;
  readonly #graceMs: number;
  readonly #ttlSeconds: number;

  constructor(redis: RedisClient, logger: Logger, graceMs: number, ttlSeconds: number) {
    this.#redis = redis;
    this.#logger = logger;
    this.#graceMs = graceMs;
    this.#ttlSeconds = ttlSeconds;
  }

  attach(fusionId: string): void {
    const key = keys.readers(fusionId);
    this.#redis
      .multi()
      .incr(key)
      .expire(key, this.#ttlSeconds)
      .exec()
      .catch((err) =>
        this.#logger.warn({ err: (err as Error).message, fusionId }, "could not count a reader"),
      );
  }

  detach(fusionId: string): void {
    this.#redis
      .decr(keys.readers(fusionId))
      .catch((err) =>
        this.#logger.warn({ err: (err as Error).message, fusionId }, "could not count a reader"),
      );
  }

  /** The fusion's client went away: cancel it now, or after the grace period unless a reader came back. */
  clientGone(fusionId: string, requestId: string): void {
    const cancel = () => {
      this.#logger.info({ fusionId, requestId }, "client went away: cancelling the fusion");
      cancelFusion(this.#redis, fusionId).catch((err) =>
        this.#logger.warn({ err: (err as Error).message, fusionId }, "cancel failed"),
      );
    };
    if (this.#graceMs === 0) {
      cancel();
      return;
    }
    this.#logger.info(
      { fusionId, requestId, graceMs: this.#graceMs },
      "client went away: waiting for it to resume",
    );
    setTimeout(async () => {
      const readers = Number((await this.#redis.get(keys.readers(fusionId)).catch(() => null)) ?? 0);
      if (readers <= 0) cancel();
    }, this.#graceMs).unref();
  }
}
