import { FusionError } from "@fusion/wire";

/** Most characters a key may have. */
const IDEMPOTENCY_KEY_MAX = 255;

const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * The `Idempotency-Key` header's key: undefined without the header; 400 unless it is 1 to 255 printable
 * ASCII characters. Sent as a quoted string (the IETF draft's structured-field form,
 * `Idempotency-Key: "8e03…"`), it is the text between the quotes, so both spellings name one key.
 */
export function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(header);
  const key = quoted ? (quoted[1] ?? "").replace(/\\(["\\])/g, "$1") : header;
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX || !PRINTABLE.test(key)) {
    throw new FusionError(
      "bad_request",
      `invalid Idempotency-Key: it must be 1 to ${IDEMPOTENCY_KEY_MAX} printable ASCII characters`,
    );
  }
  return key;
}
