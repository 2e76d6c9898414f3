import { cancelAndEndFusion, cancelFusion, keys, type Logger, type RedisClient } from "@fusion/runtime";
import { readMeta } from "@fusion/intake";
import { isTerminal, readFusionState } from "./fusion-state.ts";

export interface ReadersOptions {
  redis: RedisClient;
  logger: Logger;
  /** Lifetime of a fusion's reader count. */
  ttlSeconds: number;
  /** How long a cancelled fusion's stream is kept after its last entry (STREAM_RETENTION_SECONDS). Default 600. */
  streamTtlSeconds?: number;
  /**
   * A sorted set, shared by every gateway, of the fusions whose client left, scored by the time (ms)
   * their resume grace ends: a gateway that restarts or dies leaves them for the others to sweep.
   */
  graceKey: string;
  /** How often this gateway sweeps the grace deadlines that have passed. Default 250. */
  sweepEveryMs?: number;
  /** Told of each fusion this gateway cancelled (to free its slot, whichever gateway holds it). */
  onCancelled?: (fusionId: string) => void;
}

/** Most deadlines one sweep takes. */
const SWEEP_BATCH = 100;

/**
 * Counts the clients reading each fusion's stream, in Redis so that every gateway sees them, and
 * cancels a fusion its client left: at once, or once the resume grace the request asked for passes
 * with no reader back. A cancelled fusion's stream ends as a cancel on request ends it (its error
 * entry), so that a later resume or an idempotent retry reads its end at once. It fails closed: a Redis error never cancels a live fusion (the deadline is
 * tried again on a later sweep).
 */
export class Readers {
  readonly #o: ReadersOptions;
  readonly #sweepEveryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;

  constructor(options: ReadersOptions) {
    this.#o = options;
    this.#sweepEveryMs = options.sweepEveryMs ?? 250;
  }

  attach(fusionId: string): void {
    const key = keys.readers(fusionId);
    this.#o.redis
      .multi()
      .incr(key)
      .expire(key, this.#o.ttlSeconds)
      .exec()
      .catch((err) => this.#warn(err, fusionId, "could not count a reader"));
  }

  detach(fusionId: string): void {
    this.#o.redis
      .decr(keys.readers(fusionId))
      .catch((err) => this.#warn(err, fusionId, "could not count a reader"));
  }

  /**
   * The fusion's client went away: cancel it now (`graceMs` 0), or record when its grace ends for a
   * sweep of any gateway to cancel it then unless a reader came back. Resolves once that is written;
   * never rejects (a Redis error leaves the fusion running, logged).
   */
  async clientGone(fusionId: string, requestId: string, graceMs: number): Promise<void> {
    if (graceMs <= 0) {
      await this.#cancel(fusionId, { requestId }, "client went away: cancelling the fusion");
      return;
    }
    this.#o.logger.info({ fusionId, requestId, graceMs }, "client went away: waiting for it to resume");
    await this.#o.redis
      .zadd(this.#o.graceKey, Date.now() + graceMs, fusionId)
      .catch((err) =>
        this.#warn(err, fusionId, "could not record the resume grace: the fusion keeps running"),
      );
  }

  /** Starts sweeping the grace deadlines (every gateway does, so a deadline outlives its gateway). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#sweeping) return;
      this.#sweeping = true;
      void this.sweep().finally(() => {
        this.#sweeping = false;
      });
    }, this.#sweepEveryMs);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Cancels the fusions whose grace has passed with no reader back (and that have not ended). Each
   * deadline is claimed by one gateway (ZREM); one whose state or readers cannot be read, or whose
   * cancel fails, is put back for a later sweep: never cancelled on a Redis error.
   */
  async sweep(): Promise<void> {
    const { redis, graceKey } = this.#o;
    // Not connected yet (or reconnecting): nothing is cancelled meanwhile, the deadlines wait.
    if (redis.status !== "ready") return;
    let due: string[];
    try {
      due = await redis.zrangebyscore(graceKey, "-inf", Date.now(), "LIMIT", 0, SWEEP_BATCH);
    } catch (err) {
      this.#warn(err, undefined, "could not sweep resume deadlines");
      return;
    }
    await Promise.all(
      due.map(async (fusionId) => {
        try {
          if ((await redis.zrem(graceKey, fusionId)) !== 1) return;
        } catch {
          return;
        }
        try {
          // A fusion that ended meanwhile has nothing left to cancel.
          if (isTerminal(await readFusionState(redis, fusionId))) return;
          const readers = Number((await redis.get(keys.readers(fusionId))) ?? 0);
          if (readers > 0) return;
          this.#o.logger.info(
            { fusionId, reason: "no reader back within the resume grace" },
            "client went away: cancelling the fusion",
          );
          await this.#cancelAndEnd(fusionId);
          this.#o.onCancelled?.(fusionId);
        } catch (err) {
          this.#warn(err, fusionId, "could not check or cancel a fusion: trying again later");
          await redis.zadd(graceKey, Date.now() + this.#sweepEveryMs, fusionId).catch(() => {});
        }
      }),
    );
  }

  async #cancel(fusionId: string, fields: Record<string, unknown>, message: string): Promise<void> {
    this.#o.logger.info({ fusionId, ...fields }, message);
    await this.#cancelAndEnd(fusionId).catch((err) => this.#warn(err, fusionId, "cancel failed"));
  }

  /** Cancels the fusion and ends its stream; one with no meta (never accepted) is only cancelled. */
  async #cancelAndEnd(fusionId: string): Promise<void> {
    const { redis } = this.#o;
    const meta = await readMeta(redis, fusionId);
    if (!meta) return cancelFusion(redis, fusionId);
    await cancelAndEndFusion(redis, fusionId, {
      created: Math.floor(meta.created / 1000),
      model: meta.model,
      streamTtlSeconds: this.#o.streamTtlSeconds ?? 600,
    });
  }

  #warn(err: unknown, fusionId: string | undefined, message: string): void {
    this.#o.logger.warn({ err: (err as Error).message, fusionId }, message);
  }
}
