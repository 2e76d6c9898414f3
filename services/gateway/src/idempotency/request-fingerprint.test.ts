import { describe, expect, it } from "vitest";
import { requestFingerprint } from "./request-fingerprint.ts";

describe("a request's fingerprint", () => {
  const body = { model: "openrouter/fusion", stream: true, messages: [{ role: "user", content: "hi" }] };

  it("is the same for the same JSON in any key order or spelling of its numbers", () => {
    const reordered = JSON.parse(
      '{"messages":[{"content":"hi","role":"user"}],"stream":true,"model":"openrouter/fusion"}',
    ) as unknown;
    expect(requestFingerprint(reordered, false)).toBe(requestFingerprint(body, false));
    expect(requestFingerprint({ t: JSON.parse("1.0") as unknown }, false)).toBe(
      requestFingerprint({ t: 1 }, false),
    );
    expect(requestFingerprint(body, false)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs with the content, with streaming, and with asking for an async answer", () => {
    const base = requestFingerprint(body, false);
    expect(requestFingerprint({ ...body, messages: [{ role: "user", content: "hi!" }] }, false)).not.toBe(
      base,
    );
    expect(requestFingerprint({ ...body, stream: false }, false)).not.toBe(base);
    expect(requestFingerprint(body, true)).not.toBe(base);
    // Order within arrays matters.
    expect(requestFingerprint({ a: [1, 2] }, false)).not.toBe(requestFingerprint({ a: [2, 1] }, false));
  });
});
