import { type ChatCompletionChunk, chatCompletionChunkSchema } from "@fusion/wire";
import { createParser, type EventSourceMessage, type ParseError } from "eventsource-parser";
import { redactJson, redactSecrets, UpstreamError } from "./errors.ts";
import { errorEventError, streamError } from "./stream-error.ts";

export interface ChunkStreamContext {
  /** Appended to messages, e.g. " (model openai/gpt-5)"; may be empty. */
  suffix: string;
  secrets: readonly string[];
  /** Largest event the parser buffers, in characters. Default 16 MiB. */
  maxEventChars?: number;
}

type Item = { event: EventSourceMessage } | { error: ParseError };

/** Longest piece of upstream text quoted in an error message. */
const maxQuote = 200;

/**
 * Reads an OpenAI-style SSE body (LF or CRLF line endings, multi-line `data:`): comments
 * (`: OPENROUTER PROCESSING`) are skipped, each `data:` is JSON-parsed and validated with
 * `chatCompletionChunkSchema`, `data: [DONE]` ends the stream. Chunks without choices (Azure's first
 * chunk, usage-only chunks) are yielded like the others.
 * Everything that goes wrong becomes a thrown UpstreamError, never another exception:
 * - a line that is not SSE, invalid JSON or an invalid chunk → kind "protocol";
 * - a chunk with an `error` field, whatever its finish_reason, or an `event: error` frame → kind
 *   "http" (see streamError);
 * - the body ends without `[DONE]` and without any finish_reason or usage → "protocol" (truncated);
 * - the stream ends without a single choice → "protocol".
 * Errors of the source itself (socket, timeout) propagate unchanged for the caller to map.
 */
export async function* parseChunkStream(
  source: AsyncIterable<Uint8Array | string>,
  ctx: ChunkStreamContext,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const queue: Item[] = [];
  const parser = createParser({
    onEvent: (event) => queue.push({ event }),
    onError: (error) => {
      if (error.type !== "invalid-retry") queue.push({ error });
    },
    maxBufferSize: ctx.maxEventChars ?? 16 * 1024 * 1024,
  });
  const decoder = new TextDecoder();
  const state = { yielded: false, sawEnd: false, sawChoice: false };

  const drain = function* (): Generator<ChatCompletionChunk, boolean, undefined> {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      if ("error" in item) throw parseFailure(item.error, ctx);
      if (item.event.event === "error") throw errorEventError(item.event.data, state.yielded, ctx);
      const data = item.event.data.trim();
      if (data === "[DONE]") return true;
      if (data === "") continue;
      const chunk = toChunk(data, state.yielded, ctx);
      if (chunk.choices.length > 0) state.sawChoice = true;
      if (chunk.usage || chunk.choices.some((c) => c.finish_reason)) state.sawEnd = true;
      state.yielded = true;
      yield chunk;
    }
    return false;
  };

  for await (const piece of source) {
    parser.feed(typeof piece === "string" ? piece : decoder.decode(piece, { stream: true }));
    if (yield* drain()) return finish(state, ctx);
  }
  // Flush a last event the upstream did not terminate with a blank line.
  parser.feed(`${decoder.decode()}\n\n`);
  if (yield* drain()) return finish(state, ctx);
  if (!state.sawEnd) {
    throw new UpstreamError("protocol", `upstream stream ended early (truncated)${ctx.suffix}`);
  }
  finish(state, ctx);
}

function finish(state: { sawChoice: boolean }, ctx: ChunkStreamContext): void {
  if (!state.sawChoice) {
    throw new UpstreamError("protocol", `upstream stream had no choices${ctx.suffix}`);
  }
}

function parseFailure(error: ParseError, ctx: ChunkStreamContext): UpstreamError {
  const what =
    error.type === "max-buffer-size-exceeded"
      ? "an event larger than the parser allows"
      : `a line that is not server-sent events: ${quote(error.line ?? error.field ?? "", ctx)}`;
  return new UpstreamError("protocol", `upstream stream sent ${what}${ctx.suffix}`, { cause: error });
}

function toChunk(data: string, yielded: boolean, ctx: ChunkStreamContext): ChatCompletionChunk {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (cause) {
    throw new UpstreamError(
      "protocol",
      `upstream stream sent invalid JSON: ${quote(data, ctx)}${ctx.suffix}`,
      {
        cause,
      },
    );
  }
  const parsed = chatCompletionChunkSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
    throw new UpstreamError("protocol", `upstream stream sent an invalid chunk (${where})${ctx.suffix}`, {
      body: redactJson(json, ctx.secrets),
      cause: parsed.error,
    });
  }
  const chunk = parsed.data;
  if (chunk.error) throw streamError(chunk.error, json, yielded, ctx);
  return chunk;
}

function quote(text: string, ctx: ChunkStreamContext): string {
  const t = redactSecrets(text, ctx.secrets).replace(/\s+/g, " ").trim();
  return JSON.stringify(t.length > maxQuote ? `${t.slice(0, maxQuote)}…` : t);
}
