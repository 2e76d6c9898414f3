import { FusionError } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { checkRequestLimits, MAX_JSON_DEPTH, messageChars, nestsDeeperThan } from "./request-limits.ts";

const limits = { MAX_MESSAGES: 3, MAX_MESSAGE_CHARS: 10, MAX_TOTAL_CHARS: 25 };
const user = (content: unknown) => ({ role: "user", content });

function refusal(body: unknown): FusionError {
  try {
    checkRequestLimits(body, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(FusionError);
    return err as FusionError;
  }
  throw new Error("expected a refusal");
}

describe("messageChars", () => {
  it("counts string content, text parts and tool-call arguments", () => {
    expect(messageChars(user("hello"))).toBe(5);
    expect(
      messageChars(
        user([
          { type: "text", text: "abc" },
          { type: "image_url", image_url: { url: "data:..." } },
          { type: "text", text: "de" },
        ]),
      ),
    ).toBe(5);
    expect(
      messageChars({
        role: "assistant",
        content: "x",
        tool_calls: [{ id: "1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
      }),
    ).toBe(8);
  });

  it("counts nothing for fields of the wrong type (the schema reports them)", () => {
    for (const m of [null, 42, "text", [], user(42), user({ text: "abc" }), { tool_calls: "x" }]) {
      expect(messageChars(m)).toBe(0);
    }
  });
});

/** `depth` levels of alternating objects and arrays, built without recursion. */
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

describe("nestsDeeperThan", () => {
  it("counts levels of arrays and objects, not scalars", () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({ a: [1, "x", null] }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true);
    expect(nestsDeeperThan(nested(50), 50)).toBe(false);
    expect(nestsDeeperThan(nested(51), 50)).toBe(true);
  });

  it("handles nesting far deeper than the call stack would", () => {
    expect(nestsDeeperThan(JSON.parse(`${"[".repeat(200_000)}${"]".repeat(200_000)}`), 100)).toBe(true);
  });
});

describe("checkRequestLimits", () => {
  it("refuses a body nested deeper than MAX_JSON_DEPTH anywhere, with 400", () => {
    const ok = { model: "m", messages: [user("x")], extra: nested(MAX_JSON_DEPTH - 1) };
    expect(() => checkRequestLimits(ok, limits)).not.toThrow();
    for (const body of [
      { model: "m", messages: [user("x")], extra: nested(MAX_JSON_DEPTH) },
      nested(MAX_JSON_DEPTH + 1),
    ]) {
      const err = refusal(body);
      expect(err.status).toBe(400);
      expect(err.message).toBe(
        `the request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
      );
    }
  });

  it("lets bodies within every limit through, at the limits exactly", () => {
    expect(() =>
      checkRequestLimits(
        { messages: [user("a".repeat(10)), user("b".repeat(10)), user("c".repeat(5))] },
        limits,
      ),
    ).not.toThrow();
  });

  it("leaves bodies without a messages array to the schema", () => {
    for (const body of [null, [], "x", {}, { messages: "many" }, { messages: { length: 99 } }]) {
      expect(() => checkRequestLimits(body, limits)).not.toThrow();
    }
  });

  it("refuses more messages than MAX_MESSAGES with a 400 that names the limit", () => {
    const err = refusal({ messages: [user("a"), user("b"), user("c"), user("d")] });
    expect(err.status).toBe(400);
    expect(err.message).toBe("messages: 4 messages, more than the 3 a request may hold");
    expect(err.toBody().error).toMatchObject({ code: 400, metadata: { limit: "max_messages", max: 3 } });
  });

  it("refuses one message longer than MAX_MESSAGE_CHARS, naming its index", () => {
    const err = refusal({ messages: [user("ok"), user([{ type: "text", text: "x".repeat(11) }])] });
    expect(err.status).toBe(400);
    expect(err.message).toBe("messages.1: 11 characters, more than the 10 one message may hold");
  });

  it("refuses messages longer than MAX_TOTAL_CHARS together", () => {
    const err = refusal({ messages: [user("a".repeat(10)), user("b".repeat(10)), user("c".repeat(6))] });
    expect(err.status).toBe(400);
    expect(err.message).toBe("messages: 26 characters in all, more than the 25 a request may hold");
  });
});
