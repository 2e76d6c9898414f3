import type { StoredEvent } from "@fusion/wire";

export const KEEPALIVE_FRAME = ": OPENROUTER PROCESSING\n\n";
export const DONE = "data: [DONE]\n\n";

export interface FrameOptions {
  /** Progress as named `fusion.progress` events; otherwise as SSE comment lines that clients ignore. */
  progressEvents: boolean;
}

/**
 * The SSE frame of one stored event. Chunks and progress are relayed as the worker wrote them; every
 * frame carries the entry id, so a client can resume after it with Last-Event-ID.
 */
export function frameFor(event: StoredEvent, options: FrameOptions): string {
  switch (event.type) {
    case "chunk":
      return `id: ${event.id}\ndata: ${event.raw}\n\n`;
    case "progress":
      return options.progressEvents
        ? `id: ${event.id}\nevent: fusion.progress\ndata: ${event.raw}\n\n`
        : `id: ${event.id}\n: fusion.progress ${event.raw}\n\n`;
    case "final":
    case "error":
      return `id: ${event.id}\n${DONE}`;
  }
}

/** An error chunk the gateway itself must send (deadline, lost relay), in OpenRouter's shape. */
export function gatewayErrorFrames(fusionId: string, model: string, status: number, message: string): string {
  const chunk = {
    id: fusionId,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    error: { code: "server_error", status, message },
    choices: [{ index: 0, delta: {}, finish_reason: "error" }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n${DONE}`;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};
