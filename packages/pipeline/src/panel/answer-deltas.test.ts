import { describe, expect, it } from "vitest";
import { AnswerDeltas } from "./answer-deltas.ts";
import { answerText } from "./answer-text.ts";

const samples = [
  "Plain answer.",
  "  \n Leading and trailing space. \n\n",
  "<think>I should weigh both.</think>\n\nThe answer.",
  "\n<think>reasoning</think>The answer right after.",
  "<think>never closed, the answer was cut off while thinking",
  "<thin is not a think tag",
  "<think>a</think>   ",
  "Text <think>inside</think> stays, only a leading block goes.",
  "Multi\n\nparagraph  \n\n  answer\n",
  "   ",
  "",
];

/** Every way to cut `text` into pieces at the given positions, told to a fresh filter, joined. */
function told(pieces: string[]): string {
  const deltas = new AnswerDeltas();
  return pieces.map((p) => deltas.push(p, 0)).join("");
}

describe("AnswerDeltas", () => {
  it.each(samples)("joined, the deltas of %j are its answer text, however it is cut", (content) => {
    // One piece, one character at a time, and every cut into two pieces.
    expect(told([content])).toBe(answerText(content));
    expect(told([...content])).toBe(answerText(content));
    for (let i = 0; i <= content.length; i++) {
      expect(told([content.slice(0, i), content.slice(i)])).toBe(answerText(content));
    }
  });

  it("tells text as it comes, holding back only white space at its end", () => {
    const deltas = new AnswerDeltas();
    expect(deltas.push("Hello", 0)).toBe("Hello");
    expect(deltas.push(" ", 0)).toBe("");
    expect(deltas.push("world \n", 0)).toBe(" world");
    expect(deltas.push("!", 0)).toBe(" \n!");
  });

  it("holds back a leading think block until it closes", () => {
    const deltas = new AnswerDeltas();
    expect(deltas.push("<thi", 0)).toBe("");
    expect(deltas.push("nk>weighing", 0)).toBe("");
    expect(deltas.push(" it</think>\nYes", 0)).toBe("Yes");
  });

  it("keeps each step apart, and a reset starts a step over", () => {
    const deltas = new AnswerDeltas();
    expect(deltas.push("Let me search ", 0)).toBe("Let me search");
    expect(deltas.push("<think>", 1)).toBe("");
    expect(deltas.push("x</think>Answer", 1)).toBe("Answer");
    deltas.reset(1);
    expect(deltas.push(" Again", 1)).toBe("Again");
    expect(deltas.push("now", 0)).toBe(" now");
  });
});
