import { describe, expect, it } from "vitest";
import { findCycles } from "./import-cycles.ts";

const edges = (...pairs: Array<[string, string | undefined]>) => pairs.map(([from, to]) => ({ from, to }));

describe("findCycles", () => {
  it("finds none in a graph without cycles, even where paths meet", () => {
    expect(findCycles(edges(["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"], ["d", undefined]))).toEqual([]);
  });

  it("reports two files that import each other", () => {
    expect(findCycles(edges(["b", "a"], ["a", "b"], ["a", "c"]))).toEqual([
      { files: ["a", "b"], path: ["a", "b", "a"] },
    ]);
  });

  it("reports a file that imports itself", () => {
    expect(findCycles(edges(["a", "a"], ["a", "b"]))).toEqual([{ files: ["a"], path: ["a", "a"] }]);
  });

  it("gives a shortest cycle through the first file and every file of the tangle", () => {
    const found = findCycles(
      edges(["a", "b"], ["b", "c"], ["c", "d"], ["d", "a"], ["b", "a"], ["c", "e"], ["e", "c"]),
    );
    expect(found).toEqual([{ files: ["a", "b", "c", "d", "e"], path: ["a", "b", "a"] }]);
  });

  it("reports separate cycles separately, sorted by their first file", () => {
    const found = findCycles(edges(["y", "z"], ["z", "y"], ["a", "b"], ["b", "a"], ["b", "y"]));
    expect(found.map((cycle) => cycle.path)).toEqual([
      ["a", "b", "a"],
      ["y", "z", "y"],
    ]);
  });

  it("handles a chain far deeper than the call stack", () => {
    const chain = Array.from({ length: 20_000 }, (_, i): [string, string] => [`f${i}`, `f${i + 1}`]);
    expect(findCycles(edges(...chain))).toEqual([]);
    const found = findCycles(edges(...chain, ["f20000", "f0"]));
    expect(found).toHaveLength(1);
    expect(found[0]?.files).toHaveLength(20_001);
  });
});
