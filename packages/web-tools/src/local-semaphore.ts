/** Runs a task when one of `limit` slots is free; waiting ends early (rejects) when `signal` aborts. */
export interface LocalSemaphore {
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** A counting semaphore in this process: FIFO, no timeouts of its own. */
export function createLocalSemaphore(limit: number): LocalSemaphore {
  let active = 0;
  const waiting: Array<() => void> = [];

  function release(): void {
    const next = waiting.shift();
    if (next) next();
    else active--;
  }

  function acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (active < limit) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = waiting.indexOf(grant);
        if (at >= 0) waiting.splice(at, 1);
        reject(signal?.reason);
      };
      waiting.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  return {
    async run(task, signal) {
      await acquire(signal);
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
