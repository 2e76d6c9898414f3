import type { Analysis } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { extractJsonObject, parseAnalysis } from "./judge-json.ts";

const analysis: Analysis = {
  consensus: ["Postgres is a safe default"],
  contradictions: [
    {
      topic: "Kafka",
      stances: [
        { model: "a/one", stance: "needed" },
        { model: "b/two", stance: "overkill" },
      ],
    },
  ],
  partial_coverage: [{ models: ["a/one"], point: "retention costs" }],
  unique_insights: [{ model: "b/two", insight: "use BRIN indexes" }],
  blind_spots: ["backups"],
};
const json = JSON.stringify(analysis);

describe("extractJsonObject", () => {
  it("reads a plain JSON reply", () => {
    expect(extractJsonObject(`  ${json}\n`)).toEqual(analysis);
  });

  it("reads a fenced json block with prose around it", () => {
    const text = `Here is my comparison:\n\n\`\`\`json\n${JSON.stringify(analysis, null, 2)}\n\`\`\`\n\nHope this helps.`;
    expect(extractJsonObject(text)).toEqual(analysis);
  });

  it("reads an object inside prose without a fence", () => {
    expect(extractJsonObject(`The analysis is ${json} as requested.`)).toEqual(analysis);
  });

  it("is not fooled by braces and escaped quotes inside strings", () => {
    const value = { consensus: ['use "{" and "}" carefully }}', "a \\ backslash {"], blind_spots: [] };
    expect(extractJsonObject(`Result: ${JSON.stringify(value)} (end}`)).toEqual(value);
  });

  it("takes the first of two objects", () => {
    expect(extractJsonObject('First {"consensus":["a"]} then {"consensus":["b"]}')).toEqual({
      consensus: ["a"],
    });
  });

  it("skips a broken object and takes the next valid one", () => {
    expect(extractJsonObject('Draft {consensus: oops} final {"consensus":["b"]}')).toEqual({
      consensus: ["b"],
    });
  });

  it.each(["", "no json here", "{ broken", "[1, 2, 3]", "42"])("finds no object in %j", (text) => {
    expect(extractJsonObject(text)).toBeUndefined();
  });
});

describe("parseAnalysis", () => {
  it("accepts a valid analysis", () => {
    expect(parseAnalysis(json)).toEqual({ ok: true, analysis });
  });

  it("accepts a fenced analysis in prose", () => {
    expect(parseAnalysis(`Sure.\n\`\`\`json\n${json}\n\`\`\``)).toEqual({ ok: true, analysis });
  });

  it("rejects invalid JSON", () => {
    const result = parseAnalysis('{"consensus": ["unterminated');
    expect(result).toEqual({ ok: false, error: "the reply holds no JSON object" });
  });

  it.each([
    ["empty", ""],
    ["blank", "  \n "],
    ["null", null],
    ["undefined", undefined],
  ])("rejects an %s reply", (_name, text) => {
    expect(parseAnalysis(text)).toEqual({ ok: false, error: "the judge returned no text" });
  });

  it("rejects an object that holds none of the fields", () => {
    const result = parseAnalysis('{"summary": "all good", "score": 9}');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/none of the fields consensus, contradictions/);
  });

  it("reads missing lists as empty", () => {
    expect(parseAnalysis('{"consensus": ["x"], "blind_spots": null}')).toEqual({
      ok: true,
      analysis: {
        consensus: ["x"],
        contradictions: [],
        partial_coverage: [],
        unique_insights: [],
        blind_spots: [],
      },
    });
  });

  it.each([
    ["consensus is a string", { consensus: "everyone agrees" }, "consensus"],
    ["consensus holds a number", { consensus: ["ok", 3] }, "consensus.1"],
    [
      "a stance lacks its model",
      { contradictions: [{ topic: "t", stances: [{ stance: "s" }] }] },
      "contradictions.0.stances.0.model",
    ],
  ])("rejects wrong types (%s) with the path", (_name, value, path) => {
    const result = parseAnalysis(JSON.stringify(value));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(`schema mismatch at ${path}:`);
  });
});
