import { performance } from "node:perf_hooks";

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface LoopDelayWatchOptions {
  /** The workers' lock duration (`WORKER_LOCK_MS`): a loop late by about half of it lets locks lapse. */
  lockMs: number;
  /** How often the loop is sampled: a timer this often, late by as much as the loop was held up. */
  sampleMs?: number;
  /** Least time between two warnings; the next one names the largest delay seen meanwhile. */
  warnEveryMs?: number;
}

/**
 * Warns when the process's event loop was late by a quarter of the job lock duration or more: BullMQ
 * renews a worker's locks from that loop, so such a delay is halfway to jobs being taken for stalled
 * and run again. A timer samples the loop every `sampleMs`; how late it fires is how long the loop was
 * held up (less at most `sampleMs`). The warning names the largest delay since the last one, so a
 * saturated worker shows in its logs before any job stalls. Returns the function that stops the watch.
 */
export function watchLoopDelay(logger: WarnLogger, options: LoopDelayWatchOptions): () => void {
  const { lockMs, sampleMs = 250, warnEveryMs = 5000 } = options;
  const limitMs = lockMs / 4;
  let last = performance.now();
  let worst = 0;
  let lastWarning = Number.NEGATIVE_INFINITY;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - sampleMs);
    last = now;
    if (worst >= limitMs && now - lastWarning >= warnEveryMs) {
      logger.warn({ delayMs: Math.round(worst), lockMs }, "event loop delayed: job locks at risk");
      lastWarning = now;
      worst = 0;
    }
  }, sampleMs);
  timer.unref();
  return () => clearInterval(timer);
}
