import { readRecording } from "@fusion/simulator/test-support";
import { readSseFrames } from "@fusion/testing";

/**
 * What a recorded provider response says, read here by hand from the recording's bytes: the expected
 * values of the conformance suites, independent of the decoding the service under test does.
 */
export interface RecordedTurn {
  /** The `model` the provider answered with (the first non-empty one of a stream). */
  model: string;
  /** The answer's text: string content, or the `text` parts of array content, joined. */
  content: string;
  /** The reasoning text in whichever spelling the provider used: `reasoning`, `reasoning_content` or thinking parts. */
  reasoning: string;
  /** The reasoning fields of a JSON message exactly as sent (only those that are not null). */
  reasoningFields: Record<string, unknown>;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: string | null;
  /** The last usage the provider reported. */
  usage: Record<string, unknown> | undefined;
  /** An error the provider sent in a chunk or an `event: error` frame. */
  error: unknown;
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : "");

export const REASONING_FIELDS = ["reasoning", "reasoning_content", "reasoning_details"] as const;

/** The text and the thinking of content that is a string or an array of parts (Mistral's thinking parts). */
function contentOf(content: unknown): { text: string; thinking: string } {
  if (!Array.isArray(content)) return { text: str(content), thinking: "" };
  let text = "";
  let thinking = "";
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === "text") text += str(part.text);
    if (part.type === "thinking" && Array.isArray(part.thinking)) {
      for (const inner of part.thinking) if (isRecord(inner)) thinking += str(inner.text);
    }
  }
  return { text, thinking };
}

function fromMessage(body: Json): RecordedTurn {
  const choice = Array.isArray(body.choices) && isRecord(body.choices[0]) ? body.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const { text, thinking } = contentOf(message.content);
  const reasoningFields: Json = {};
  for (const field of REASONING_FIELDS) {
    if (message[field] !== undefined && message[field] !== null) reasoningFields[field] = message[field];
  }
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : [];
  return {
    model: str(body.model),
    content: text,
    reasoning: str(message.reasoning) + str(message.reasoning_content) + thinking,
    reasoningFields,
    toolCalls: calls.map((call) => {
      const fn = isRecord(call.function) ? call.function : {};
      return { id: str(call.id), name: str(fn.name), arguments: str(fn.arguments) || "{}" };
    }),
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    usage: isRecord(body.usage) ? body.usage : undefined,
    error: body.error,
  };
}

async function fromStream(bytes: Uint8Array): Promise<RecordedTurn> {
  const turn: RecordedTurn = {
    model: "",
    content: "",
    reasoning: "",
    reasoningFields: {},
    toolCalls: [],
    finishReason: null,
    usage: undefined,
    error: undefined,
  };
  const byKey = new Map<string, RecordedTurn["toolCalls"][number]>();
  let last: RecordedTurn["toolCalls"][number] | undefined;
  for (const frame of await readSseFrames(new Response(bytes))) {
    if (frame.data === undefined || frame.data === "[DONE]") continue;
    const chunk = JSON.parse(frame.data) as Json;
    if (frame.event === "error" || chunk.error !== undefined) turn.error = chunk.error ?? chunk;
    if (!turn.model) turn.model = str(chunk.model);
    if (isRecord(chunk.usage)) turn.usage = chunk.usage;
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices.filter(isRecord) : []) {
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const { text, thinking } = contentOf(delta.content);
      turn.content += text;
      turn.reasoning += str(delta.reasoning) + str(delta.reasoning_content) + thinking;
      for (const fragment of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) {
        const fn = isRecord(fragment.function) ? fragment.function : {};
        // By index; without one by id; without either it continues the last call.
        const key =
          typeof fragment.index === "number"
            ? `i${fragment.index}`
            : str(fragment.id)
              ? `id${fragment.id}`
              : "";
        let call = key ? byKey.get(key) : last;
        if (!call) {
          call = { id: "", name: "", arguments: "" };
          turn.toolCalls.push(call);
          if (key) byKey.set(key, call);
        }
        if (str(fragment.id)) call.id = str(fragment.id);
        call.name += str(fn.name);
        call.arguments += str(fn.arguments);
        last = call;
      }
      if (typeof choice.finish_reason === "string") turn.finishReason = choice.finish_reason;
    }
  }
  for (const call of turn.toolCalls) call.arguments ||= "{}";
  return turn;
}

/**
 * Content that opens with the model's reasoning inline in `<think>…</think>` (DeepSeek-R1 on Together)
 * split into that reasoning and the answer after it; other content is all answer.
 */
export function splitInlineThinking(content: string): { thinking: string; answer: string } {
  const match = /^\s*<think>([\s\S]*?)<\/think>/.exec(content);
  if (!match) return { thinking: "", answer: content };
  return { thinking: match[1] ?? "", answer: content.slice(match[0].length) };
}

/** The recorded response of a file under `packages/simulator/recordings/`. */
export async function recordedTurn(file: string): Promise<RecordedTurn> {
  const recording = readRecording(file);
  if (recording.format === "sse") return fromStream(recording.bytes);
  return fromMessage(JSON.parse(recording.text) as Json);
}

export interface UsageTotals {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Present when some usage reported a cost. */
  cost?: number;
  /** Present when some usage reported reasoning tokens. */
  reasoning_tokens?: number;
}

/** Usage records added up the way every OpenAI-compatible client reads them (total = prompt + completion when absent). */
export function sumUsage(usages: Array<Record<string, unknown> | undefined>): UsageTotals {
  const out: UsageTotals = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const num = (v: unknown) => (typeof v === "number" ? v : 0);
  let cost: number | undefined;
  for (const usage of usages) {
    if (!usage) continue;
    out.prompt_tokens += num(usage.prompt_tokens);
    out.completion_tokens += num(usage.completion_tokens);
    out.total_tokens +=
      typeof usage.total_tokens === "number"
        ? usage.total_tokens
        : num(usage.prompt_tokens) + num(usage.completion_tokens);
    if (typeof usage.cost === "number") cost = (cost ?? 0) + usage.cost;
    const details = usage.completion_tokens_details;
    if (isRecord(details) && typeof details.reasoning_tokens === "number") {
      out.reasoning_tokens = (out.reasoning_tokens ?? 0) + details.reasoning_tokens;
    }
  }
  if (cost !== undefined) out.cost = Math.round(cost * 1e9) / 1e9;
  return out;
}
