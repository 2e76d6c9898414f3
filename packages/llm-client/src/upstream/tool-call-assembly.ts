import type { ToolCall, ToolCallDelta } from "@fusion/wire";
import { newToolCallId } from "./tool-call-id.ts";

interface PartialToolCall {
  index?: number;
  id?: string;
  name?: string;
  arguments: string;
}

/**
 * Assembles streamed tool-call fragments. A fragment belongs to the call with its `index`; without an
 * index (Mistral, Google), to the call with its non-empty `id`, else it starts a new call when it has
 * an id and continues the last call when it has none. The id and the name come from the first
 * fragment that has them; arguments are concatenated.
 */
export class ToolCallAssembler {
  readonly #calls: PartialToolCall[] = [];

  get size(): number {
    return this.#calls.length;
  }

  push(fragment: ToolCallDelta): void {
    const call = this.#callOf(fragment);
    if (call.id === undefined && fragment.id) call.id = fragment.id;
    if (call.name === undefined && fragment.function?.name) call.name = fragment.function.name;
    if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
  }

  /**
   * The calls, by index (in arrival order when some call had none). A call that never got an id gets
   * one here, once: every later result has the same id. Missing or empty arguments are "{}".
   */
  result(): ToolCall[] {
    const calls = this.#calls.every((c) => c.index !== undefined)
      ? [...this.#calls].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      : this.#calls;
    return calls.map((call) => {
      call.id ??= newToolCallId();
      return {
        id: call.id,
        type: "function" as const,
        function: { name: call.name ?? "", arguments: call.arguments === "" ? "{}" : call.arguments },
      };
    });
  }

  #callOf(fragment: ToolCallDelta): PartialToolCall {
    const { index } = fragment;
    const id = fragment.id || undefined;
    let call: PartialToolCall | undefined;
    if (index !== undefined) call = this.#calls.find((c) => c.index === index);
    else if (id !== undefined) call = this.#calls.find((c) => c.id === id);
    else call = this.#calls.at(-1);
    if (call === undefined) {
      call = index === undefined ? { arguments: "" } : { index, arguments: "" };
      this.#calls.push(call);
    }
    return call;
  }
}
