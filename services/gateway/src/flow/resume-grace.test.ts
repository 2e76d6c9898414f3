import { describe, expect, it } from "vitest";
import { resumeGraceMs } from "./resume-grace.ts";

describe("resumeGraceMs", () => {
  const limits = { defaultMs: 0, maxMs: 10_000 };

  it("is the default without the field, and the asked value within the maximum", () => {
    expect(resumeGraceMs(undefined, limits)).toBe(0);
    expect(resumeGraceMs({ progress: true }, limits)).toBe(0);
    expect(resumeGraceMs({ resume_grace_ms: null }, { defaultMs: 500, maxMs: 10_000 })).toBe(500);
    expect(resumeGraceMs({ resume_grace_ms: 2500 }, limits)).toBe(2500);
    expect(resumeGraceMs({ resume_grace_ms: 0 }, { defaultMs: 500, maxMs: 10_000 })).toBe(0);
  });

  it("cuts a larger grace (asked or default) to the maximum", () => {
    expect(resumeGraceMs({ resume_grace_ms: 3_600_000 }, limits)).toBe(10_000);
    expect(resumeGraceMs(undefined, { defaultMs: 20_000, maxMs: 10_000 })).toBe(10_000);
  });

  it("refuses what is not a whole number of ms, 0 or more", () => {
    for (const bad of [-1, 1.5, "100", true, Number.POSITIVE_INFINITY]) {
      expect(() => resumeGraceMs({ resume_grace_ms: bad }, limits)).toThrow(/fusion\.resume_grace_ms/);
    }
  });
});
