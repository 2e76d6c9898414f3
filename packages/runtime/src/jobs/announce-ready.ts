import type { Logger } from "../logger.ts";

/** What `announceReady` needs of a BullMQ Worker: its `ready` event. */
interface ReadyEmitter {
  on(event: "ready", listener: () => void): unknown;
}

/**
 * Logs `message` once, when every one of a queue's workers (one per shard served and worker loop) is
 * ready, with how many there are; a worker that is ready again later (its connection came back) is
 * logged at debug. One line per queue at start-up, however many loops `WORKER_SLOTS_PER_LOOP` makes.
 */
export function announceReady(
  logger: Logger,
  workers: readonly ReadyEmitter[],
  fields: Record<string, unknown>,
  message: string,
): void {
  const ready = new Set<ReadyEmitter>();
  let announced = false;
  for (const worker of workers) {
    worker.on("ready", () => {
      if (announced) {
        logger.debug(fields, `${message} again`);
        return;
      }
      ready.add(worker);
      if (ready.size < workers.length) return;
      announced = true;
      logger.info({ workers: workers.length, ...fields }, message);
    });
  }
}
