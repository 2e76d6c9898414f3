import { describe, expect, it } from "vitest";
import { countJsonlLines, lineBody, parseBatchInput, splitJsonl } from "./batch-input.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const line = (customId: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "m", messages: [{ role: "user", content: "hi" }] },
    ...extra,
  });
const acceptAll = () => undefined;

describe("splitJsonl", () => {
  it("gives each non-blank line with its inclusive byte span, CRLF and a last line without newline included", () => {
    const content = enc('{"a":1}\r\n\n  \n{"é":2}');
    const lines = splitJsonl(content);
    expect(lines.map((l) => [l.text, l.lineNo])).toEqual([
      ['{"a":1}', 1],
      ['{"é":2}', 4],
    ]);
    for (const l of lines)
      expect(new TextDecoder().decode(content.subarray(l.start, l.end + 1))).toBe(l.text);
    expect(countJsonlLines(enc("\n\n"))).toBe(0);
  });
});

describe("parseBatchInput", () => {
  it("takes valid lines in order with their indexes", () => {
    const parsed = parseBatchInput(enc(`${line("a")}\n${line("b")}\n`), acceptAll);
    expect(parsed.errors).toEqual([]);
    expect(parsed.lines.map((l) => [l.index, l.customId])).toEqual([
      [0, "a"],
      [1, "b"],
    ]);
  });

  it("reports each problem with OpenAI's fields and its 1-based line", () => {
    const text = [
      "not json",
      "[1]",
      line(""),
      line("a"),
      line("a"),
      line("b", { method: "GET" }),
      line("c", { url: "/v1/embeddings" }),
      line("d", { body: "text" }),
      line("e"),
    ].join("\n");
    const parsed = parseBatchInput(enc(text), (body) =>
      body.model === "m" ? "model m is refused" : undefined,
    );
    expect(parsed.errors).toEqual([
      { code: "invalid_json_line", message: "this line is not valid JSON", line: 1, param: null },
      { code: "invalid_json_line", message: "this line is not a JSON object", line: 2, param: null },
      { code: "missing_required_parameter", message: expect.any(String), line: 3, param: "custom_id" },
      { code: "invalid_request", message: "model m is refused", line: 4, param: "body" },
      { code: "duplicate_custom_id", message: expect.stringContaining('"a"'), line: 5, param: "custom_id" },
      { code: "invalid_method", message: expect.any(String), line: 6, param: "method" },
      { code: "invalid_url", message: expect.any(String), line: 7, param: "url" },
      { code: "invalid_request", message: "body must be a JSON object", line: 8, param: "body" },
      { code: "invalid_request", message: "model m is refused", line: 9, param: "body" },
    ]);
  });

  it("refuses a file without request lines", () => {
    expect(parseBatchInput(enc("\n"), acceptAll).errors[0]?.code).toBe("empty_file");
  });
});

describe("lineBody", () => {
  it("drops stream and stream_options and keeps the rest", () => {
    expect(lineBody({ model: "m", stream: true, stream_options: { include_usage: true }, n: 1 })).toEqual({
      model: "m",
      n: 1,
    });
  });
});
