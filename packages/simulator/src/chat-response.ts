import type { Frame } from "./delayed-stream.ts";
import type { Script } from "./script.ts";
import type { EmittedToolCall, Turn } from "./turn.ts";

/** The fields every completion object and chunk carries. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

export interface SimUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
  /** Searches run within the call by a server tool, as OpenRouter reports them. */
  server_tool_use?: { web_search_requests: number };
}

/** Tokens each emitted tool call counts for. */
const TOOL_CALL_TOKENS = 10;

/** Splits text into word tokens: each is one word plus the whitespace after it. */
function wordTokens(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text]);
}

export function usageFor(rawMessages: unknown[], turn: Turn): SimUsage {
  const prompt = Math.ceil(JSON.stringify(rawMessages).length / 4);
  const completion = wordTokens(turn.text).length + TOOL_CALL_TOKENS * turn.toolCalls.length;
  const total = prompt + completion;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    cost: Number((total * 0.000001).toFixed(9)),
    ...(turn.webSearches ? { server_tool_use: { web_search_requests: turn.webSearches } } : {}),
  };
}

function finishReason(turn: Turn): "stop" | "tool_calls" {
  return turn.toolCalls.length > 0 ? "tool_calls" : "stop";
}

function wireToolCall(call: EmittedToolCall) {
  return { id: call.id, type: "function" as const, function: { name: call.name, arguments: call.arguments } };
}

/** The non-streaming `chat.completion` object. */
function completionObject(meta: ResponseMeta, turn: Turn, usage: SimUsage) {
  const message =
    turn.toolCalls.length > 0
      ? {
          role: "assistant",
          content: turn.text === "" ? null : turn.text,
          tool_calls: turn.toolCalls.map(wireToolCall),
        }
      : {
          role: "assistant",
          content: turn.text,
          ...(turn.annotations ? { annotations: turn.annotations } : {}),
        };
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: finishReason(turn) }],
    usage,
  };
}

/** Splits tool-call arguments into at least two pieces. */
function argumentPieces(args: string): string[] {
  const count = Math.max(2, Math.min(6, Math.ceil(args.length / 16)));
  const size = Math.max(1, Math.ceil(args.length / count));
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) pieces.push(args.slice(i * size, (i + 1) * size));
  return pieces;
}

function chunk(meta: ResponseMeta, delta: object, finish: string | null = null) {
  return {
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** The `chat.completion.chunk` objects of a streamed turn, in order, without the usage chunk. */
function streamChunks(meta: ResponseMeta, turn: Turn): object[] {
  const chunks: object[] = [chunk(meta, { role: "assistant" })];
  // OpenRouter streams the citations of its web search before the text, one per delta
  // (recordings/openrouter/web-search-annotations-stream.sse).
  for (const annotation of turn.annotations ?? []) {
    chunks.push(chunk(meta, { content: "", role: "assistant", annotations: [annotation] }));
  }
  for (const token of wordTokens(turn.text)) chunks.push(chunk(meta, { content: token }));
  turn.toolCalls.forEach((call, index) => {
    argumentPieces(call.arguments).forEach((piece, i) => {
      const fragment =
        i === 0
          ? { index, id: call.id, type: "function", function: { name: call.name, arguments: piece } }
          : { index, function: { arguments: piece } };
      chunks.push(chunk(meta, { tool_calls: [fragment] }));
    });
  });
  chunks.push(chunk(meta, {}, finishReason(turn)));
  return chunks;
}

function usageChunk(meta: ResponseMeta, usage: SimUsage) {
  return {
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [],
    usage,
  };
}

const sse = (value: object | string) =>
  `data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`;
const DONE = "data: [DONE]\n\n";

const ERROR_CHUNK_BODY = {
  error: { code: 502, message: "provider went away" },
  choices: [{ index: 0, delta: {}, finish_reason: "error" }],
};

/** The SSE payloads of a streamed turn, honouring the script's `corrupt` mode. */
export function streamPayloads(
  meta: ResponseMeta,
  turn: Turn,
  usage: SimUsage,
  includeUsage: boolean,
  corrupt: Script["corrupt"],
): string[] {
  const chunks = streamChunks(meta, turn);
  const [first, second] = chunks;
  switch (corrupt) {
    case "garbage-sse":
      return [
        "this is not server-sent events\n",
        "<html><body>502 Bad Gateway</body></html>\n",
        "%%% garbage %%%\n\n",
      ];
    case "invalid-json":
      return [
        sse(first ?? {}),
        `data: {"id": "${meta.id}", "choices": [{"delta": {"content": "broken\n\n`,
        DONE,
      ];
    case "truncated":
      // Valid content chunks, then the body simply ends: no finish_reason, no [DONE].
      return chunks.slice(0, Math.min(3, chunks.length - 1)).map(sse);
    case "empty-choices":
      return [
        sse({
          id: meta.id,
          object: "chat.completion.chunk",
          created: meta.created,
          model: meta.model,
          choices: [],
        }),
        DONE,
      ];
    case "error-chunk":
      return [
        sse(first ?? {}),
        ...(chunks.length > 2 && second ? [sse(second)] : []),
        sse({
          id: meta.id,
          object: "chat.completion.chunk",
          created: meta.created,
          model: meta.model,
          ...ERROR_CHUNK_BODY,
        }),
        DONE,
      ];
    default: {
      const payloads = chunks.map(sse);
      if (includeUsage) payloads.push(sse(usageChunk(meta, usage)));
      payloads.push(DONE);
      return payloads;
    }
  }
}

/** The frames of a streamed response: `hangMs` after the first chunk, `tokenDelayMs` between the rest. */
export function streamFrames(payloads: string[], script: Script): Frame[] {
  return payloads.map((data, i) => ({
    delayMs: i === 0 ? 0 : (script.tokenDelayMs ?? 0) + (i === 1 ? (script.hangMs ?? 0) : 0),
    data,
  }));
}

/** The body of a non-streaming response, honouring the script's `corrupt` mode. */
export function completionBodyText(
  meta: ResponseMeta,
  turn: Turn,
  usage: SimUsage,
  corrupt: Script["corrupt"],
): string {
  const full = completionObject(meta, turn, usage);
  switch (corrupt) {
    case "invalid-json":
      return "this is not JSON {";
    case "garbage-sse":
    case "truncated": {
      const text = JSON.stringify(full);
      return text.slice(0, Math.floor(text.length / 2));
    }
    case "empty-choices":
      return JSON.stringify({ ...full, choices: [] });
    case "error-chunk":
      return JSON.stringify({
        ...full,
        error: ERROR_CHUNK_BODY.error,
        choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: "error" }],
      });
    default:
      return JSON.stringify(full);
  }
}
