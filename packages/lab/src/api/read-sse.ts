import { EventSourceParserStream } from "eventsource-parser/stream";
import type { SseMessage } from "../state/reduce.ts";

/**
 * Reads a response's SSE body to its end, handing each event to `onMessage` (EventSource cannot send
 * an Authorization header, so the page reads `fetch`'s body). Comments (keep-alives) are skipped.
 * Resolves at the end of the body; rejects when the connection fails or the request is aborted.
 */
export async function readSse(body: NonNullable<Response["body"]>, onMessage: (message: SseMessage) => void) {
  const reader = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onMessage({ id: value.id, event: value.event, data: value.data });
  }
}
