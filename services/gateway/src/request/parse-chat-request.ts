import { type ChatRequest, chatRequestSchemaFor, FusionError, type PresetCatalog } from "@fusion/wire";
import { checkRequestLimits, type RequestLimits } from "./request-limits.ts";

/** A request body that passed the checks: the validated request, and the JSON text that was validated. */
export interface ParsedChatRequest {
  request: ChatRequest;
  /**
   * The parsed JSON serialised again: what a pass-through sends on, never the raw bytes, so the
   * upstream reads what was validated (a key given twice keeps only the last copy, as the schema saw).
   */
  validatedText(): string;
  /** The parsed JSON, as the schema saw it (what an Idempotency-Key's fingerprint is taken of). */
  json: unknown;
}

/**
 * Turns the text of a `POST /chat/completions` body into a validated request, or throws a 400 in the
 * error shape: not JSON, over the size limits (checked before the schema), or not a valid request
 * (the first five issues, each with its path).
 */
export function chatRequestParser(
  limits: RequestLimits,
  presets: PresetCatalog,
): (raw: string) => ParsedChatRequest {
  const requestSchema = chatRequestSchemaFor(presets);
  return (raw) => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new FusionError("bad_request", "the request body is not valid JSON");
    }
    checkRequestLimits(json, limits);
    const parsed = requestSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`);
      throw new FusionError("bad_request", `invalid request: ${issues.join("; ")}`);
    }
    // The depth limit checked above keeps serialising it again from overflowing the stack.
    return { request: parsed.data, validatedText: () => JSON.stringify(json), json };
  };
}
