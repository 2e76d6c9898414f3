import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function randomId(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** A fusion's id: also the completion id, the turn job's id and the tag of its Redis keys. */
export const newFusionId = () => `gen-fusion-${Date.now().toString(36)}${randomId(16)}`;
export const newRequestId = () => `req-${randomId(20)}`;
export const newToolCallId = () => `call_${randomId(24)}`;
