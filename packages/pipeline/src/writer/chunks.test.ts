import { describe, expect, it } from "vitest";
import { ChunkBuilder } from "./chunks.ts";

const parse = (s: string) => JSON.parse(s) as Record<string, unknown>;

describe("ChunkBuilder", () => {
  const b = new ChunkBuilder("gen-fusion-1", 1_700_000_000, "openai/gpt-5");

  it("builds content chunks in the chat.completion.chunk shape", () => {
    expect(parse(b.content("Hello"))).toEqual({
      id: "gen-fusion-1",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "openai/gpt-5",
      choices: [{ index: 0, delta: { role: "assistant", content: "Hello" }, finish_reason: null }],
    });
  });

  it("indexes tool calls", () => {
    const chunk = parse(
      b.toolCalls([
        { id: "c1", type: "function", function: { name: "a", arguments: "{}" } },
        { id: "c2", type: "function", function: { name: "b", arguments: '{"x":1}' } },
      ]),
    ) as { choices: Array<{ delta: { tool_calls: Array<{ index: number; id: string }> } }> };
    expect(chunk.choices[0]?.delta.tool_calls.map((t) => [t.index, t.id])).toEqual([
      [0, "c1"],
      [1, "c2"],
    ]);
  });

  it("puts usage and fusion on the finishing chunk, and usage alone on the usage chunk", () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    expect(parse(b.finish("stop", {}, { usage, fusion: { status: "ok" } }))).toMatchObject({
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      usage,
      fusion: { status: "ok" },
    });
    expect(parse(b.usage(usage))).toMatchObject({ choices: [], usage });
  });

  it("builds an error chunk as OpenRouter sends it", () => {
    expect(parse(b.error(502, "upstream failed"))).toMatchObject({
      error: { code: "server_error", status: 502, message: "upstream failed" },
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
    });
  });

  it("uses the concrete model once it is known", () => {
    const c = new ChunkBuilder("id", 1, "~openai/gpt-latest");
    c.model = "openai/gpt-5-2026";
    expect(parse(c.content("x")).model).toBe("openai/gpt-5-2026");
  });
});
