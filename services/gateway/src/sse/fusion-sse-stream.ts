import type { EventRelay } from "@fusion/runtime";
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
  /** Called once when the client goes away (or the deadline passes) before the stream finished. */
  onClientGone: () => void;
  /** Called once when the stream starts, and once when it ends, however it ends. */
  onStart?: () => void;
  onEnd?: () => void;
}

/** A ReadableStream of SSE frames for one fusion: keep-alive comments while it works, then its frames. */
export function fusionSseStream(options: SseStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  /** Why the stream ended: the fusion finished, the client left, or the deadline passed. */
  let ended: "finished" | "client" | "deadline" | undefined;
  const errorFrames = (status: number, message: string) =>
    gatewayErrorFrames(options.fusionId, options.model, status, message);

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (text && ended !== "client") controller.enqueue(encoder.encode(text));
      };
      const deadline = setTimeout(() => {
        ended = "deadline";
        abort.abort();
      }, options.deadlineMs);
      options.onStart?.();
      send(KEEPALIVE_FRAME);
      try {
        await options.ready;
      } catch (err) {
        const status = (err as { status?: number }).status ?? 503;
        send(errorFrames(status, err instanceof Error ? err.message : "the fusion could not start"));
        ended = "finished";
        clearTimeout(deadline);
        options.onEnd?.();
        controller.close();
        return;
      }
      try {
        for await (const stored of options.relay.read(options.fusionId, {
          idleMs: options.keepAliveMs,
          onIdle: () => send(KEEPALIVE_FRAME),
          signal: abort.signal,
          ...(options.afterId ? { afterId: options.afterId } : {}),
        })) {
          send(frameFor(stored, options));
          if (stored.type === "final" || stored.type === "error") {
            ended = "finished";
            break;
          }
        }
        if (ended === "deadline") {
          send(errorFrames(408, "the fusion did not finish in time"));
          options.onClientGone();
        } else if (ended === undefined) {
          send(errorFrames(502, "the fusion ended without an answer"));
        }
      } catch (err) {
        if (ended !== "client") send(errorFrames(503, `stream relay failed: ${(err as Error).message}`));
      } finally {
        clearTimeout(deadline);
        options.onEnd?.();
        if (ended !== "client") controller.close();
      }
    },
    cancel() {
      if (ended === undefined) options.onClientGone();
      ended = "client";
      abort.abort();
    },
  });
}
