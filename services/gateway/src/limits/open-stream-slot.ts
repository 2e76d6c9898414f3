import type { OpenStream } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";

/**
 * Counts one more open SSE stream of the key (MAX_OPEN_STREAMS_PER_KEY, across gateways), or throws 429
 * when the key has as many open. When Redis cannot count, the stream goes ahead: it reads Redis too, and
 * reports its own failure (an SSE error chunk). The caller releases the stream when its response ends.
 */
export async function openStreamSlot(
  deps: Pick<GatewayDeps, "openStreams" | "logger">,
  keyId: string,
): Promise<OpenStream> {
  let stream: OpenStream | undefined;
  try {
    stream = await deps.openStreams.tryOpen(keyId);
  } catch (err) {
    // The stream needs Redis too: without it, it ends at once with its own 503 error chunk.
    deps.logger.warn({ err: (err as Error).message }, "open-stream limit unavailable (Redis)");
    return { release() {} };
  }
  if (stream) return stream;
  const max = deps.openStreams.max;
  throw new FusionError(
    "rate_limited",
    `too many open streams for this API key (at most ${max}); close one or retry later`,
    { headers: { "retry-after": "1" }, metadata: { limit: "open_streams", max } },
  );
}
