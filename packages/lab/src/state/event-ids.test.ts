import { describe, expect, it } from "vitest";
import { compareEventIds, msOfEventId } from "./event-ids.ts";

describe("event ids", () => {
  it("reads the server time of a stream entry id", () => {
    expect(msOfEventId("1795258260615-3")).toBe(1795258260615);
    expect(msOfEventId("0-0")).toBe(0);
    expect(msOfEventId("nope")).toBeUndefined();
    expect(msOfEventId(undefined)).toBeUndefined();
  });

  it("orders ids by their parts as numbers, not as text", () => {
    expect(compareEventIds("9-0", "10-0")).toBeLessThan(0);
    expect(compareEventIds("10-2", "10-10")).toBeLessThan(0);
    expect(compareEventIds("10-10", "10-2")).toBeGreaterThan(0);
    expect(compareEventIds("1795258260615-0", "1795258260615-0")).toBe(0);
  });
});
