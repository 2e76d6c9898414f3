import type { AssistantTurn, ChatCompletion, ChatCompletionChunk, ToolCall, Usage } from "@fusion/wire";
import { emptyUsage } from "@fusion/wire";
import { ContentPartsAssembler, partsText } from "./content-parts.ts";
import { ReasoningAssembler, reasoningOf } from "./reasoning-assembly.ts";
import { ToolCallAssembler } from "./tool-call-assembly.ts";
import { newToolCallId } from "./tool-call-id.ts";

export interface PushResult {
  /** The text delta of this chunk, when it has one. */
  content?: string;
  /** The reasoning text of this chunk (`reasoning`, `reasoning_content` or thinking parts), if any. */
  reasoning?: string;
  /** True on the chunk whose `finish_reason` closes a turn that has tool calls. */
  toolCallsDone?: boolean;
}

/**
 * Folds streamed chunks into one AssistantTurn: the text of `choices[0].delta.content` (a string or an
 * array of parts, whose thinking parts are reasoning), the reasoning fields and annotations, tool calls
 * (see ToolCallAssembler); keeps the last non-empty `model`, `finish_reason` and `usage`.
 */
export class TurnAssembler {
  #model: string;
  #content = "";
  readonly #parts = new ContentPartsAssembler();
  readonly #reasoning = new ReasoningAssembler();
  readonly #annotations: unknown[] = [];
  readonly #toolCalls = new ToolCallAssembler();
  #finishReason: string | undefined;
  #usage: Usage | undefined;
  #toolCallsDone = false;

  /** `fallbackModel` is reported when no chunk names a model (e.g. the requested model). */
  constructor(fallbackModel = "") {
    this.#model = fallbackModel;
  }

  push(chunk: ChatCompletionChunk): PushResult {
    const out: PushResult = {};
    if (chunk.model) this.#model = chunk.model;
    if (chunk.usage) this.#usage = chunk.usage;
    const choice = chunk.choices.find((c) => (c.index ?? 0) === 0);
    if (!choice) return out;
    const delta = choice.delta ?? {};
    const { text, reasoning: thinking } = this.#parts.push(delta.content);
    if (text !== "") {
      this.#content += text;
      out.content = text;
    }
    const reasoning = this.#reasoning.push(delta) + thinking;
    if (reasoning !== "") out.reasoning = reasoning;
    this.#annotations.push(...(delta.annotations ?? []));
    for (const fragment of delta.tool_calls ?? []) this.#toolCalls.push(fragment);
    if (choice.finish_reason) {
      this.#finishReason = choice.finish_reason;
      if (this.#toolCalls.size > 0 && !this.#toolCallsDone) {
        this.#toolCallsDone = true;
        out.toolCallsDone = true;
      }
    }
    return out;
  }

  /** The turn so far. Without a finish_reason it is "tool_calls" when tool calls arrived, else "stop". */
  result(): AssistantTurn {
    const toolCalls = this.#toolCalls.result();
    return withExtras(
      {
        model: this.#model,
        content: this.#content,
        toolCalls,
        finishReason: this.#finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
        usage: this.#usage ?? emptyUsage(),
      },
      this.#reasoning.fields(),
      this.#parts.parts(),
      this.#annotations,
    );
  }
}

/**
 * The AssistantTurn of a non-streamed completion (its first choice). Tool calls get an id when theirs
 * is missing or empty, "function" as type, "{}" as missing or empty arguments.
 */
export function turnFromCompletion(completion: ChatCompletion, fallbackModel = ""): AssistantTurn {
  const choice = completion.choices.find((c) => (c.index ?? 0) === 0) ?? completion.choices[0];
  const message = choice?.message;
  const toolCalls: ToolCall[] = (message?.tool_calls ?? []).map((call) => ({
    ...call,
    id: call.id || newToolCallId(),
    type: "function",
    function: {
      ...call.function,
      name: call.function.name ?? "",
      arguments: call.function.arguments || "{}",
    },
  }));
  const content = message?.content;
  const parts = Array.isArray(content) ? content : undefined;
  return withExtras(
    {
      model: completion.model || fallbackModel,
      content: typeof content === "string" ? content : parts ? partsText(parts) : "",
      toolCalls,
      finishReason: choice?.finish_reason || (toolCalls.length > 0 ? "tool_calls" : "stop"),
      usage: completion.usage ?? emptyUsage(),
    },
    message ? reasoningOf(message) : undefined,
    parts,
    message?.annotations ?? [],
  );
}

/** The turn with the optional fields that have something in them. */
function withExtras(
  turn: AssistantTurn,
  reasoning: AssistantTurn["reasoning"],
  contentParts: unknown[] | undefined,
  annotations: unknown[],
): AssistantTurn {
  if (reasoning) turn.reasoning = reasoning;
  if (contentParts) turn.contentParts = contentParts;
  if (annotations.length > 0) turn.annotations = [...annotations];
  return turn;
}
