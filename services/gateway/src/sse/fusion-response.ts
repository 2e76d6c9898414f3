import type { OpenStream } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { Context } from "hono";
import type { GatewayDeps } from "../deps.ts";
import type { AppEnv } from "../factory.ts";
import { clientClosedRequest } from "../http/http-status.ts";
import { finalOrError } from "./fusion-answer.ts";
import { fusionSseStream } from "./fusion-sse-stream.ts";
import { SSE_HEADERS } from "./sse-frames.ts";

type ResponseDeps = Pick<GatewayDeps, "env" | "logger" | "relay" | "readers" | "slots">;

/** The fusion a response serves, and what its client's leaving does. */
interface ServedFusion {
  fusionId: string;
  requestId: string;
  /** The key that started it: its slot is freed when this response sees the fusion end. */
  owner: string;
  /** How long the fusion keeps running once the client left; 0 cancels it at once. */
  resumeGraceMs: number;
  /** An async fusion (202): it runs with no reader, so a client that leaves does not cancel it. */
  detached?: boolean;
}

/** The client left before the fusion ended: cancel it (now or after its grace), then free its slot if it ended. */
function clientGone(deps: ResponseDeps, fusion: ServedFusion): void {
  if (fusion.detached) return;
  void deps.readers
    .clientGone(fusion.fusionId, fusion.requestId, fusion.resumeGraceMs)
    .then(() => deps.slots.settle(fusion.fusionId, fusion.owner));
}

export interface FusionStreamOptions extends ServedFusion {
  /** The writer model, named in the error chunks the gateway itself sends. */
  model: string;
  progressEvents: boolean;
  /** Settles when the fusion is enqueued (a new fusion); a rejection ends the stream with its error. */
  ready?: Promise<unknown>;
  /** Resume after this entry id (Last-Event-ID); from the start when absent. */
  afterId?: string;
  /** The key's open-stream count this response holds (see `openStreamSlot`), released when it ends. */
  streamSlot?: OpenStream;
  /** Headers of the response besides the SSE ones. */
  headers: Record<string, string>;
}

/**
 * A fusion's output as an SSE response, from any gateway. The headers and a first keep-alive go out at
 * once (a streaming client's first byte does not wait for Redis); the client is counted as a reader
 * while it is connected, and its leaving may cancel the fusion (see `Readers`).
 */
export function fusionSseResponse(deps: ResponseDeps, options: FusionStreamOptions): Response {
  const { fusionId, owner } = options;
  const body = fusionSseStream({
    ...(options.ready ? { ready: options.ready } : {}),
    relay: deps.relay,
    fusionId,
    model: options.model,
    progressEvents: options.progressEvents,
    ...(options.afterId ? { afterId: options.afterId } : {}),
    keepAliveMs: deps.env.KEEPALIVE_MS,
    deadlineMs: deps.env.FUSION_TIMEOUT_MS,
    bufferBytes: deps.env.SSE_BUFFER_BYTES,
    slowReaderMs: deps.env.SSE_SLOW_READER_MS,
    onSlowReader: () =>
      deps.logger.info(
        { fusionId, requestId: options.requestId },
        "client too slow for its stream: disconnected",
      ),
    onClientGone: () => clientGone(deps, options),
    onStart: () => deps.readers.attach(fusionId),
    onEnd: () => {
      options.streamSlot?.release();
      deps.readers.detach(fusionId);
      void deps.slots.settle(fusionId, owner);
    },
  });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...options.headers } });
}

/**
 * A non-streaming request's answer: waits for the fusion's terminal event and answers the completion or
 * its error as JSON (with `X-Fusion-Id`). A client that leaves first gets 499 and its fusion may be
 * cancelled; past FUSION_TIMEOUT_MS the answer is 408, and 503 when the relay fails.
 */
export async function fusionJsonResponse(
  c: Context<AppEnv>,
  deps: ResponseDeps,
  fusion: ServedFusion & { accepted: Promise<unknown> },
): Promise<Response> {
  const { fusionId, owner } = fusion;
  await fusion.accepted;
  c.header("X-Fusion-Id", fusionId);
  const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(deps.env.FUSION_TIMEOUT_MS)]);
  try {
    for await (const stored of deps.relay.read(fusionId, { signal, idleMs: deps.env.KEEPALIVE_MS })) {
      const done = finalOrError(stored);
      if (done) {
        void deps.slots.settle(fusionId, owner);
        return c.json(done.body, done.status);
      }
    }
  } catch (err) {
    deps.logger.warn({ err, fusionId }, "relay failed");
    throw new FusionError("unavailable", "lost the connection to the fusion's output");
  }
  clientGone(deps, fusion);
  if (c.req.raw.signal.aborted) return clientClosedRequest(c);
  throw new FusionError("timeout", "the fusion did not finish in time");
}
