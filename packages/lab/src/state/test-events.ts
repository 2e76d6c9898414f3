import type { SseMessage } from "./reduce.ts";

/**
 * Builds the SSE events of a fusion's stream as the gateway sends them with progress "full": ids are
 * Redis Stream entry ids (`<ms>-<seq>`) that grow with the clock, progress events are named
 * `fusion.progress`, chunks are unnamed, the stream ends with `data: [DONE]`.
 */
export class FusionEvents {
  readonly fusionId = "gen-fusion-test-1";
  readonly events: SseMessage[] = [];
  #ms: number;
  #seq = 0;

  constructor(startMs = 1_795_258_260_000) {
    this.#ms = startMs;
  }

  /** Moves the clock on (the next event's id has a later ms part). */
  wait(ms: number): this {
    this.#ms += ms;
    this.#seq = 0;
    return this;
  }

  #push(data: string, event?: string): this {
    this.events.push({ id: `${this.#ms}-${this.#seq++}`, ...(event ? { event } : {}), data });
    return this;
  }

  progress(fields: Record<string, unknown>): this {
    const body = {
      id: this.fusionId,
      object: "fusion.progress",
      created: 1_795_258_260,
      choices: [],
      ...fields,
    };
    return this.#push(JSON.stringify(body), "fusion.progress");
  }

  panel(index: number, model: string, status: string, fields: Record<string, unknown> = {}): this {
    return this.progress({ stage: "panel", index, model, status, ...fields });
  }

  chunk(fields: Record<string, unknown>): this {
    const body = {
      id: this.fusionId,
      object: "chat.completion.chunk",
      created: 1_795_258_260,
      model: "~anthropic/claude-opus-latest",
      choices: [],
      ...fields,
    };
    return this.#push(JSON.stringify(body));
  }

  content(text: string): this {
    return this.chunk({
      choices: [{ index: 0, delta: { role: "assistant", content: text }, finish_reason: null }],
    });
  }

  done(): this {
    return this.#push("[DONE]");
  }
}

export const usage = (prompt: number, completion: number, cost: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  cost,
});

export const stage = (model: string, latencyMs: number, cost: number, status = "ok", error?: string) => ({
  model,
  status,
  latency_ms: latencyMs,
  usage: usage(100, 50, cost),
  tool_calls_requested: 1,
  tool_calls_executed: 1,
  web_search_requests: 1,
  ...(error ? { error } : {}),
});
