import { describe, expect, it } from "vitest";
import { endCompare, reduceCompare, startCompare } from "./compare-state.ts";

const chunk = (fields: Record<string, unknown>) => ({
  data: JSON.stringify({
    id: "gen-1",
    object: "chat.completion.chunk",
    model: "~openai/gpt-latest",
    ...fields,
  }),
});
const text = (content: string) => chunk({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });

describe("reduceCompare", () => {
  it("streams the single model's answer and keeps its latency and cost", () => {
    let state = startCompare("~openai/gpt-latest", 1000);
    state = reduceCompare(state, chunk({ choices: [{ index: 0, delta: { role: "assistant" } }] }), 1100);
    state = reduceCompare(state, text("Ridge "), 1200);
    state = reduceCompare(state, text("shrinks."), 1300);
    state = reduceCompare(state, chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }), 1350);
    state = reduceCompare(
      state,
      chunk({
        choices: [],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 0.000015 },
      }),
      1360,
    );
    state = reduceCompare(state, { data: "[DONE]" }, 1400);
    expect(state).toMatchObject({
      status: "done",
      text: "Ridge shrinks.",
      startedAt: 1000,
      firstTextAt: 1200,
      endedAt: 1400,
      usage: { total_tokens: 15, cost: 0.000015 },
    });
  });

  it("fails on an error chunk and ignores what comes after its end", () => {
    let state = startCompare("m", 0);
    state = reduceCompare(state, chunk({ error: { code: 502, message: "upstream down" }, choices: [] }), 5);
    state = reduceCompare(state, text("late"), 6);
    expect(state).toMatchObject({ status: "failed", error: "upstream down", text: "", endedAt: 5 });
    expect(endCompare(state, "cancelled", 9)).toBe(state);
    expect(endCompare(startCompare("m", 0), "cancelled", 9)).toMatchObject({
      status: "cancelled",
      endedAt: 9,
    });
  });
});
