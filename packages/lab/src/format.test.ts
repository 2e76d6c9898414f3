import { describe, expect, it } from "vitest";
import { formatCost, formatMs, formatTokens, sourceLabel } from "./format.ts";

describe("format", () => {
  it("writes latencies, costs, tokens and source labels", () => {
    expect(formatMs(320)).toBe("320 ms");
    expect(formatMs(1234)).toBe("1.23 s");
    expect(formatMs(61_000)).toBe("61.0 s");
    expect(formatMs(undefined)).toBe("–");
    expect(formatCost(0.00015)).toBe("$0.000150");
    expect(formatCost(1.5)).toBe("$1.5000");
    expect(formatCost(null)).toBe("–");
    expect(formatTokens(12345)).toBe("12,345");
    expect(sourceLabel("https://example.org/a/b")).toBe("example.org/a/b");
    expect(sourceLabel("https://example.org/", "Example")).toBe("Example");
  });
});
