import { describe, expect, it } from "vitest";
import { listPage, pageIds, pageLimit } from "./pagination.ts";

describe("cursor pagination", () => {
  const ids = ["e", "d", "c", "b", "a"];

  it("pages through the ids after each page's last id", () => {
    expect(pageIds(ids, undefined, 2)).toEqual({ ids: ["e", "d"], hasMore: true });
    expect(pageIds(ids, "d", 2)).toEqual({ ids: ["c", "b"], hasMore: true });
    expect(pageIds(ids, "b", 2)).toEqual({ ids: ["a"], hasMore: false });
    expect(pageIds(ids, "a", 2)).toEqual({ ids: [], hasMore: false });
  });

  it("gives an empty page after an id it does not know", () => {
    expect(pageIds(ids, "zz", 2)).toEqual({ ids: [], hasMore: false });
  });

  it("names the first and last id of a page", () => {
    expect(listPage([{ id: "x" }, { id: "y" }], true)).toEqual({
      object: "list",
      data: [{ id: "x" }, { id: "y" }],
      first_id: "x",
      last_id: "y",
      has_more: true,
    });
    expect(listPage([], false)).toMatchObject({ first_id: null, last_id: null, has_more: false });
  });

  it("takes a limit of 1 to 100, 20 by default", () => {
    expect(pageLimit(undefined)).toBe(20);
    expect(pageLimit("100")).toBe(100);
    for (const bad of ["0", "101", "1.5", "x"]) expect(pageLimit(bad)).toBeUndefined();
  });

  it("takes other bounds when asked (files: 1 to 10,000, all by default)", () => {
    const files = { max: 10_000, fallback: 10_000 };
    expect(pageLimit(undefined, files)).toBe(10_000);
    expect(pageLimit("5000", files)).toBe(5000);
    expect(pageLimit("10001", files)).toBeUndefined();
  });
});
