import type { EventRelay } from "@fusion/runtime";
import { isTerminal, type StoredEvent } from "@fusion/wire";
import { type FrameOptions, frameFor, gatewayErrorFrames, KEEPALIVE_FRAME } from "./sse-frames.ts";

export interface SseStreamOptions extends FrameOptions {
  /** Settles when the fusion is enqueued; a rejection ends the stream with its error. */
  ready?: Promise<unknown>;
  relay: EventRelay;
  fusionId: string;
  model: string;
  /** Resume after this entry id (Last-Event-ID); from the start when absent. */
  afterId?: string;
  keepAliveMs: number;
  deadlineMs: number;
  /** Bytes of frames the stream holds for a client that does not take them. Default 64 KiB. */
  bufferBytes?: number;
  /** A client that takes nothing for this long while the buffer is full is disconnected. Default 30 s. */
  slowReaderMs?: number;
  /** Called once when the client goes away (or the deadline passes) before the stream finished. */
  onClientGone: () => void;
  /** Called when a client too slow for the buffer is disconnected (it may resume with Last-Event-ID). */
  onSlowReader?: () => void;
  /** Called once when the stream starts, and once when it ends, however it ends. */
  onStart?: () => void;
  onEnd?: () => void;
}

/** Why the stream ended: the fusion finished, the client left, the deadline passed, or the client was too slow. */
type Ended = "finished" | "client" | "deadline" | "slow";

/**
 * A ReadableStream of SSE frames for one fusion: keep-alive comments while it works, then its frames.
 * It pulls: the next entry is read from the relay only when the client has taken what the buffer
 * (`bufferBytes`) holds, so a client that does not read costs a bounded buffer, and one that takes
 * nothing for `slowReaderMs` while the buffer is full is disconnected (without cancelling the fusion).
 */
export function fusionSseStream(options: SseStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  let ended: Ended | undefined;
  let events: AsyncGenerator<StoredEvent> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let stall: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const errorFrames = (status: number, message: string) =>
    gatewayErrorFrames(options.fusionId, options.model, status, message);

  /** Clears the timers and stops reading; once, however the stream ends. */
  const finish = () => {
    if (closed) return;
    closed = true;
    clearTimeout(deadline);
    clearTimeout(stall);
    abort.abort();
    void events?.return(undefined).catch(() => {});
    options.onEnd?.();
  };

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const send = (text: string) => {
    if (!text || closed) return;
    controller.enqueue(encoder.encode(text));
    // The buffer is full: the client has `slowReaderMs` to take something.
    if ((controller.desiredSize ?? 1) <= 0 && !stall) {
      stall = setTimeout(() => {
        ended = "slow";
        options.onSlowReader?.();
        finish();
        controller.error(new Error("the client did not read its stream in time"));
      }, options.slowReaderMs ?? 30_000);
    }
  };
  const end = () => {
    finish();
    controller.close();
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        deadline = setTimeout(() => {
          ended ??= "deadline";
          abort.abort();
        }, options.deadlineMs);
        options.onStart?.();
        send(KEEPALIVE_FRAME);
      },
      async pull() {
        clearTimeout(stall);
        stall = undefined;
        if (!events) {
          try {
            await options.ready;
          } catch (err) {
            const status = (err as { status?: number }).status ?? 503;
            send(errorFrames(status, err instanceof Error ? err.message : "the fusion could not start"));
            ended = "finished";
            return end();
          }
          events = options.relay.read(options.fusionId, {
            idleMs: options.keepAliveMs,
            onIdle: () => send(KEEPALIVE_FRAME),
            signal: abort.signal,
            ...(options.afterId ? { afterId: options.afterId } : {}),
          });
        }
        try {
          const next = await events.next();
          if (closed) return;
          if (!next.done) {
            send(frameFor(next.value, options));
            if (!isTerminal(next.value.type)) return;
            ended = "finished";
            return end();
          }
          if (ended === "deadline") {
            send(errorFrames(408, "the fusion did not finish in time"));
            options.onClientGone();
          } else send(errorFrames(502, "the fusion ended without an answer"));
          end();
        } catch (err) {
          if (closed) return;
          send(errorFrames(503, `stream relay failed: ${(err as Error).message}`));
          end();
        }
      },
      cancel() {
        if (ended === undefined) options.onClientGone();
        ended = "client";
        finish();
      },
    },
    { highWaterMark: options.bufferBytes ?? 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}
