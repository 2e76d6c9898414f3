import { describe, expect, it } from "vitest";
import { idempotencyKey } from "./idempotency-key.ts";

describe("Idempotency-Key", () => {
  it("takes 1 to 255 printable ASCII characters as they are; none without the header", () => {
    expect(idempotencyKey(undefined)).toBeUndefined();
    expect(idempotencyKey("8e03978e-40d5-43e8-bc93-6894a57f9324")).toBe(
      "8e03978e-40d5-43e8-bc93-6894a57f9324",
    );
    expect(idempotencyKey("order 42 {retry}")).toBe("order 42 {retry}");
    expect(idempotencyKey("k".repeat(255))).toBe("k".repeat(255));
  });

  it("reads the IETF draft's quoted form as the key between the quotes", () => {
    expect(idempotencyKey('"8e03978e"')).toBe("8e03978e");
    expect(idempotencyKey('"a \\"b\\" \\\\ c"')).toBe('a "b" \\ c');
    // Not one quoted string: taken as it is.
    expect(idempotencyKey('"a" "b"')).toBe('"a" "b"');
  });

  it("refuses an empty, too long or non-printable key with 400", () => {
    for (const bad of ["", '""', "k".repeat(256), "tab\there", "é-key", "nul\u0000"]) {
      expect(() => idempotencyKey(bad), bad).toThrow(/1 to 255 printable ASCII characters/);
    }
    expect(() => idempotencyKey("")).toThrow(expect.objectContaining({ status: 400, code: "bad_request" }));
  });
});
