import { sleep } from "./sleep.ts";

/** A piece of a response body and how long to wait before sending it. */
export interface Frame {
  delayMs: number;
  data: string;
}

/**
 * A body stream that sends each frame after its delay. Headers go out before the first frame, so a
 * delay on the first frame models a server that answered and then went silent. Cancelling the stream
 * (the client went away) or aborting `signal` stops the timers.
 */
export function delayedStream(frames: Frame[], signal?: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  signal?.addEventListener("abort", () => stop.abort(), { once: true });
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Loop until something is enqueued: a pull that enqueues nothing is not called again.
      for (;;) {
        const frame = frames[next++];
        if (!frame) {
          controller.close();
          return;
        }
        await sleep(frame.delayMs, stop.signal);
        if (stop.signal.aborted) return;
        if (frame.data !== "") {
          controller.enqueue(encoder.encode(frame.data));
          if (next >= frames.length) controller.close();
          return;
        }
      }
    },
    cancel() {
      stop.abort();
    },
  });
}
