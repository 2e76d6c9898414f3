import { describe, expect, it } from "vitest";
import { answerText } from "./answer-text.ts";

describe("answerText", () => {
  it("leaves out a leading <think> block, and a <think> block never closed", () => {
    expect(answerText("<think>\nHmm, a greeting.\n</think>\nHello!")).toBe("Hello!");
    expect(answerText("  <think>cut off while thinking")).toBe("");
    expect(answerText("An answer that mentions <think> tags.")).toBe("An answer that mentions <think> tags.");
  });
});
