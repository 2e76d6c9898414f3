import { describe, expect, it } from "vitest";
import { permitWaitMs } from "./permit-wait.ts";

describe("permitWaitMs", () => {
  it("waits 1 s, doubling each time up to 30 s, jittered between half and all of it", () => {
    const longest = (waits: number) => permitWaitMs(waits, () => 1);
    const shortest = (waits: number) => permitWaitMs(waits, () => 0);
    expect([0, 1, 2, 3, 4, 5, 6, 100].map(longest)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
    expect([0, 1, 5, 100].map(shortest)).toEqual([500, 1000, 15_000, 15_000]);
    expect(permitWaitMs(2, () => 0.5)).toBe(3000);
  });
});
