import type { AssistantTurn, ChatCompletion, ChatCompletionChunk, ToolCall, Usage } from "@fusion/wire";
import { emptyUsage } from "@fusion/wire";
import { newToolCallId } from "./tool-call-id.ts";

interface PartialToolCall {
  id?: string;
  type?: string;
  name?: string;
  arguments: string;
}

export interface PushResult {
  /** The text delta of this chunk, when it has one. */
  content?: string;
  /** True on the chunk whose `finish_reason` closes a turn that has tool calls. */
  toolCallsDone?: boolean;
}

/**
 * Folds streamed chunks into one AssistantTurn: concatenates `choices[0].delta.content`, assembles
 * `tool_calls` fragments by `index` (id, type and name from the first fragment that has them,
 * arguments concatenated), keeps the last non-empty `model`, `finish_reason` and `usage`.
 */
export class TurnAssembler {
  #model: string;
  #content = "";
  #toolCalls = new Map<number, PartialToolCall>();
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
    const delta = choice.delta;
    if (typeof delta?.content === "string" && delta.content !== "") {
      this.#content += delta.content;
      out.content = delta.content;
    }
    for (const fragment of delta?.tool_calls ?? []) {
      let call = this.#toolCalls.get(fragment.index);
      if (!call) {
        call = { arguments: "" };
        this.#toolCalls.set(fragment.index, call);
      }
      if (call.id === undefined && fragment.id) call.id = fragment.id;
      if (call.type === undefined && fragment.type) call.type = fragment.type;
      if (call.name === undefined && fragment.function?.name) call.name = fragment.function.name;
      if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
    }
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
    const toolCalls: ToolCall[] = [...this.#toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => ({
        id: call.id ?? newToolCallId(),
        type: "function" as const,
        function: { name: call.name ?? "", arguments: call.arguments === "" ? "{}" : call.arguments },
      }));
    return {
      model: this.#model,
      content: this.#content,
      toolCalls,
      finishReason: this.#finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
      usage: this.#usage ?? emptyUsage(),
    };
  }
}

/** The AssistantTurn of a non-streamed completion (its first choice). */
export function turnFromCompletion(completion: ChatCompletion, fallbackModel = ""): AssistantTurn {
  const choice = completion.choices.find((c) => (c.index ?? 0) === 0) ?? completion.choices[0];
  const toolCalls: ToolCall[] = (choice?.message.tool_calls ?? []).map((call) => ({
    ...call,
    id: call.id || newToolCallId(),
    function: {
      ...call.function,
      arguments: call.function.arguments === "" ? "{}" : call.function.arguments,
    },
  }));
  return {
    model: completion.model || fallbackModel,
    content: choice?.message.content ?? "",
    toolCalls,
    finishReason: choice?.finish_reason || (toolCalls.length > 0 ? "tool_calls" : "stop"),
    usage: completion.usage ?? emptyUsage(),
  };
}
