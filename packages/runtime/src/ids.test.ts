import { describe, expect, it } from "vitest";
import { newFusionId } from "./ids.ts";

describe("newFusionId", () => {
  it("is gen-fusion- with the time in base 36 and 24 random hex digits, different every time", () => {
    const ids = Array.from({ length: 1000 }, newFusionId);
    for (const id of ids) expect(id).toMatch(/^gen-fusion-[0-9a-z]{8,}[0-9a-f]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
