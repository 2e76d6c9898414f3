import type { Logger } from "../logger.ts";

/** Queue states reported by `fusion_queue_jobs`. */
const queueStates = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "waiting-children",
  "paused",
  "completed",
  "failed",
] as const;

/** What the gateway needs of a BullMQ Queue to report its depth. */
export interface QueueCountSource {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  getWorkersCount(): Promise<number>;
}

/** One queue to report, with the queue shard it belongs to (its `shard` label; 0 without sharding). */
export interface WatchedQueue {
  queue: string;
  shard: number;
  source: QueueCountSource;
}

export interface WatchQueuesOptions {
  /** Counts are read from Redis at most this often; scrapes in between get the cached numbers. */
  cacheMs?: number;
  /** A scrape waits at most this long for Redis; then the queue series are left out. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface QueueSnapshot {
  jobs: Array<{ queue: string; shard: string; state: string; count: number }>;
  workers: Array<{ queue: string; shard: string; count: number }>;
}

interface Watched {
  queues: WatchedQueue[];
  cacheMs: number;
  timeoutMs: number;
  logger?: Logger;
}

/**
 * The depth of the queues watched, read from Redis when metrics are scraped: at most once per
 * `cacheMs` (scrapes in between share one read), and never waiting on Redis longer than `timeoutMs`.
 */
export class QueueDepth {
  #watched: Watched | undefined;
  #cached: { at: number; snapshot: Promise<QueueSnapshot | undefined> } | undefined;

  /** Reports the depth of these queues from now on (replaces any queues watched before). */
  watch(queues: WatchedQueue[], options: WatchQueuesOptions = {}): void {
    this.#watched = {
      queues,
      cacheMs: options.cacheMs ?? 2000,
      timeoutMs: options.timeoutMs ?? 2000,
      ...(options.logger ? { logger: options.logger } : {}),
    };
    this.#cached = undefined;
  }

  /** The counts, or undefined when no queue is watched or Redis did not answer in time. */
  snapshot(): Promise<QueueSnapshot | undefined> {
    const now = Date.now();
    if (!this.#cached || now - this.#cached.at >= (this.#watched?.cacheMs ?? 0)) {
      this.#cached = { at: now, snapshot: this.#read() };
    }
    return this.#cached.snapshot;
  }

  async #read(): Promise<QueueSnapshot | undefined> {
    if (!this.#watched) return undefined;
    const { queues, logger, timeoutMs } = this.#watched;
    let timer: NodeJS.Timeout | undefined;
    try {
      // BullMQ waits for a connection that is down; a scrape must not, or every other metric is lost with it.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
      });
      const read = Promise.all(
        queues.map(async ({ queue, shard, source }) => {
          const [counts, workers] = await Promise.all([
            source.getJobCounts(...queueStates),
            source.getWorkersCount(),
          ]);
          return { queue, shard: String(shard), counts, workers };
        }),
      );
      read.catch(() => {});
      const entries = await Promise.race([read, timeout]);
      return {
        jobs: entries.flatMap(({ queue, shard, counts }) =>
          queueStates.map((state) => ({ queue, shard, state, count: counts[state] ?? 0 })),
        ),
        workers: entries.map(({ queue, shard, workers }) => ({ queue, shard, count: workers })),
      };
    } catch (err) {
      logger?.warn({ err: (err as Error).message }, "cannot read queue counts for metrics");
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
