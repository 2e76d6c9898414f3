import type { ToolCall } from "@fusion/wire";

/**
 * Builds the `chat.completion.chunk` texts of one answer. The worker serialises them once; the
 * gateway relays them as they are.
 */
export class ChunkBuilder {
  readonly #id: string;
  readonly #created: number;
  model: string;

  constructor(id: string, created: number, model: string) {
    this.#id = id;
    this.#created = created;
    this.model = model;
  }

  #chunk(choices: unknown[], extra?: Record<string, unknown>): string {
    return JSON.stringify({
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.model,
      choices,
      ...extra,
    });
  }

  content(text: string): string {
    return this.#chunk([{ index: 0, delta: { role: "assistant", content: text }, finish_reason: null }]);
  }

  /**
   * Reasoning as OpenRouter streams it: `delta.reasoning` with the text (null when the delta carries
   * only structured blocks, e.g. a signature), and the provider's `reasoning_details` when it sent some.
   */
  reasoning(text: string, details: unknown[] = []): string {
    const delta = {
      role: "assistant",
      content: "",
      reasoning: text || null,
      ...(details.length ? { reasoning_details: details } : {}),
    };
    return this.#chunk([{ index: 0, delta, finish_reason: null }]);
  }

  toolCalls(calls: ToolCall[]): string {
    const deltas = calls.map((tc, index) => ({
      index,
      id: tc.id,
      type: "function",
      function: { name: tc.function.name, arguments: tc.function.arguments },
    }));
    return this.#chunk([{ index: 0, delta: { role: "assistant", tool_calls: deltas }, finish_reason: null }]);
  }

  finish(finishReason: string, delta: Record<string, unknown>, extra: Record<string, unknown>): string {
    return this.#chunk([{ index: 0, delta, finish_reason: finishReason }], extra);
  }

  usage(usage: unknown): string {
    return this.#chunk([], { usage });
  }

  /** An error after the stream began: OpenRouter's shape, HTTP status stays 200. */
  error(status: number, message: string): string {
    return this.#chunk([{ index: 0, delta: {}, finish_reason: "error" }], {
      error: { code: "server_error", status, message },
    });
  }
}
