import { describe, expect, it } from "vitest";
import { completionWindowSeconds } from "./completion-window.ts";

describe("completionWindowSeconds", () => {
  it("takes OpenAI's 24h, and seconds only when test windows are on", () => {
    expect(completionWindowSeconds("24h", false)).toBe(86_400);
    expect(completionWindowSeconds("24h", true)).toBe(86_400);
    expect(completionWindowSeconds("3s", false)).toBeUndefined();
    expect(completionWindowSeconds("3s", true)).toBe(3);
    expect(completionWindowSeconds("3600s", true)).toBe(3600);
    for (const bad of ["0s", "3601s", "1h", "48h", "", " 3s", "03s"])
      expect(completionWindowSeconds(bad, true)).toBeUndefined();
  });
});
