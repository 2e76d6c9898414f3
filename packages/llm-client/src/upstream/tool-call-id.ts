import { randomBytes } from "node:crypto";

/** A tool call id in OpenAI's shape: `call_` and 24 random hex digits (96 bits). */
export const newToolCallId = () => `call_${randomBytes(12).toString("hex")}`;
