import { describe, expect, it } from "vitest";
import { splitWorkerSlots } from "./worker-loops.ts";

describe("splitWorkerSlots", () => {
  it("keeps one loop while the slots fit in it", () => {
    expect(splitWorkerSlots(64, 256)).toEqual([64]);
    expect(splitWorkerSlots(256, 256)).toEqual([256]);
    expect(splitWorkerSlots(1, 256)).toEqual([1]);
  });

  it("splits more slots over as few loops as hold them, evenly, adding up to the total", () => {
    expect(splitWorkerSlots(257, 256)).toEqual([129, 128]);
    expect(splitWorkerSlots(1000, 256)).toEqual([250, 250, 250, 250]);
    const loops = splitWorkerSlots(10_000, 256);
    expect(loops).toHaveLength(40);
    expect(loops.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Math.max(...loops)).toBeLessThanOrEqual(256);
    expect(Math.max(...loops) - Math.min(...loops)).toBeLessThanOrEqual(1);
  });
});
