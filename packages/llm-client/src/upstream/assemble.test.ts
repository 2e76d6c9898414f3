import { type ChatCompletionChunk, chatCompletionChunkSchema } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { TurnAssembler, turnFromCompletion } from "./assemble.ts";

function chunk(value: unknown): ChatCompletionChunk {
  return chatCompletionChunkSchema.parse(value);
}

function delta(d: Record<string, unknown>, extra: Record<string, unknown> = {}): ChatCompletionChunk {
  return chunk({ choices: [{ index: 0, delta: d, ...extra }] });
}

describe("TurnAssembler", () => {
  it("concatenates text and returns each delta", () => {
    const a = new TurnAssembler("requested/model");
    expect(a.push(delta({ role: "assistant", content: "" }))).toEqual({});
    expect(a.push(delta({ content: "Hello" }))).toEqual({ content: "Hello" });
    expect(a.push(delta({ content: ", world" }))).toEqual({ content: ", world" });
    expect(a.push(delta({ content: null }))).toEqual({});
    expect(a.result()).toEqual({
      model: "requested/model",
      content: "Hello, world",
      toolCalls: [],
      finishReason: "stop",
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  });

  it("assembles interleaved tool-call fragments by index", () => {
    const a = new TurnAssembler();
    a.push(
      delta({
        tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "two", arguments: "{" } }],
      }),
    );
    a.push(delta({ tool_calls: [{ index: 0, id: "a", function: { name: "one" } }] }));
    a.push(
      delta({
        tool_calls: [{ index: 0, id: "ignored", function: { name: "ignored", arguments: '{"x":1}' } }],
      }),
    );
    a.push(delta({ tool_calls: [{ index: 1, function: { arguments: "}" } }] }));
    const done = a.push(delta({}, { finish_reason: "tool_calls" }));
    expect(done).toEqual({ toolCallsDone: true });
    expect(a.result().toolCalls).toEqual([
      { id: "a", type: "function", function: { name: "one", arguments: '{"x":1}' } },
      { id: "b", type: "function", function: { name: "two", arguments: "{}" } },
    ]);
    expect(a.result().finishReason).toBe("tool_calls");
  });

  it("defaults finishReason to tool_calls when tool calls arrived without a finish_reason", () => {
    const a = new TurnAssembler();
    a.push(delta({ tool_calls: [{ index: 0, id: "a", function: { name: "f", arguments: "" } }] }));
    const turn = a.result();
    expect(turn.finishReason).toBe("tool_calls");
    expect(turn.toolCalls[0]?.function.arguments).toBe("{}");
  });

  it("invents an id for a tool call that never got one", () => {
    const a = new TurnAssembler();
    a.push(delta({ tool_calls: [{ index: 0, function: { name: "f", arguments: "{}" } }] }));
    expect(a.result().toolCalls[0]?.id).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it("invents that id once: every result has the same", () => {
    const a = new TurnAssembler();
    a.push(delta({ tool_calls: [{ index: 0, id: "", function: { name: "f" } }] }));
    const id = a.result().toolCalls[0]?.id;
    expect(id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(a.result().toolCalls[0]?.id).toBe(id);
  });

  it("assembles fragments without index by id, else into the last call", () => {
    const a = new TurnAssembler();
    a.push(delta({ tool_calls: [{ id: "a", function: { name: "one", arguments: '{"x"' } }] }));
    a.push(delta({ tool_calls: [{ function: { arguments: ":1}" } }] }));
    a.push(delta({ tool_calls: [{ id: "b", function: { name: "two" } }] }));
    a.push(delta({ tool_calls: [{ id: "a", function: { arguments: "" } }] }));
    expect(a.result().toolCalls).toEqual([
      { id: "a", type: "function", function: { name: "one", arguments: '{"x":1}' } },
      { id: "b", type: "function", function: { name: "two", arguments: "{}" } },
    ]);
  });

  it("merges reasoning_details by index and type, appends those without an index", () => {
    const a = new TurnAssembler();
    a.push(delta({ reasoning_details: [{ type: "reasoning.summary", summary: "Sum", index: 0 }] }));
    a.push(delta({ reasoning_details: [{ type: "reasoning.summary", summary: "mary", index: 0 }] }));
    a.push(delta({ reasoning_details: [{ type: "reasoning.encrypted", data: "opaque", index: 0 }] }));
    a.push(delta({ reasoning_details: [{ type: "reasoning.text", text: "loose" }] }));
    expect(a.result().reasoning).toEqual({
      reasoning_details: [
        { type: "reasoning.summary", summary: "Summary", index: 0 },
        { type: "reasoning.encrypted", data: "opaque", index: 0 },
        { type: "reasoning.text", text: "loose" },
      ],
    });
  });

  it("keeps the last non-empty model, finish_reason and usage", () => {
    const a = new TurnAssembler("fallback");
    a.push(chunk({ model: "first", choices: [{ delta: { content: "a" } }] }));
    a.push(chunk({ model: "", choices: [{ delta: { content: "b" }, finish_reason: "length" }] }));
    a.push(
      chunk({ model: "second", choices: [{ delta: {}, finish_reason: null }], usage: { prompt_tokens: 1 } }),
    );
    a.push(
      chunk({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6, cost: 0.5 } }),
    );
    a.push(chunk({ choices: [], usage: null }));
    expect(a.result()).toMatchObject({
      model: "second",
      content: "ab",
      finishReason: "length",
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6, cost: 0.5 },
    });
  });

  it("reads only choice 0", () => {
    const a = new TurnAssembler();
    a.push(
      chunk({
        choices: [
          { index: 1, delta: { content: "other" } },
          { index: 0, delta: { content: "mine" } },
        ],
      }),
    );
    expect(a.result().content).toBe("mine");
  });
});

describe("turnFromCompletion", () => {
  it("takes the first choice, its tool calls and usage", () => {
    const turn = turnFromCompletion(
      {
        model: "m",
        choices: [
          {
            message: {
              content: null,
              tool_calls: [{ id: "", type: "function", function: { name: "f", arguments: "" } }],
            },
            finish_reason: null,
          },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
      },
      "fallback",
    );
    expect(turn.model).toBe("m");
    expect(turn.content).toBe("");
    expect(turn.finishReason).toBe("tool_calls");
    expect(turn.toolCalls[0]?.function).toEqual({ name: "f", arguments: "{}" });
    expect(turn.toolCalls[0]?.id).toMatch(/^call_/);
    expect(turn.usage.total_tokens).toBe(3);
  });
});
