import { describe, expect, it } from "vitest";
import { failedLine, parseStoredAnswer, responseLine, storedAnswer, unrunLine } from "./output-lines.ts";

describe("batch result lines", () => {
  it("puts a 2xx answer in the output file in OpenAI's format", () => {
    const completion = { id: "c", object: "chat.completion" };
    expect(responseLine("batch_req_1", "a", 200, completion)).toEqual({
      kind: "output",
      line: {
        id: "batch_req_1",
        custom_id: "a",
        response: { status_code: 200, request_id: "batch_req_1", body: completion },
        error: null,
      },
    });
  });

  it("puts a failed request in the error file with its status and our error shape", () => {
    const { kind, line } = failedLine("batch_req_2", "b", 400, "bad");
    expect(kind).toBe("error");
    expect(line.response).toEqual({
      status_code: 400,
      request_id: "batch_req_2",
      body: { error: { code: 400, message: "bad", type: "bad_request" } },
    });
    expect(line.error).toBeNull();
  });

  it("answers an unrun line with no response and OpenAI's code", () => {
    expect(unrunLine("batch_req_3", "c", "batch_expired")).toEqual({
      id: "batch_req_3",
      custom_id: "c",
      response: null,
      error: {
        code: "batch_expired",
        message: "This request could not be executed before the completion window expired.",
      },
    });
  });

  it("stores an answer with the file it goes to", () => {
    const { kind, line } = failedLine("r", "d", 502, "x");
    expect(parseStoredAnswer(storedAnswer(kind, line))).toEqual({
      kind: "error",
      text: JSON.stringify(line),
    });
    const ok = responseLine("r", "e", 200, {});
    expect(parseStoredAnswer(storedAnswer(ok.kind, ok.line)).kind).toBe("output");
  });
});
