import type { ReasoningFields } from "@fusion/wire";
import { isRecord } from "./errors.ts";

/** The reasoning fields of a message or a delta, as the wire schemas type them. */
interface ReasoningSource {
  reasoning?: string | null;
  reasoning_content?: string | null;
  reasoning_details?: unknown[] | null;
}

/** Fields of a `reasoning_details` entry that arrive in pieces and are concatenated. */
const piecewise = new Set(["text", "summary", "signature", "data"]);

/** The reasoning fields of a non-streamed message, unchanged; undefined when it has none. */
export function reasoningOf(message: ReasoningSource): ReasoningFields | undefined {
  const fields: ReasoningFields = {};
  if (typeof message.reasoning === "string") fields.reasoning = message.reasoning;
  if (typeof message.reasoning_content === "string") fields.reasoning_content = message.reasoning_content;
  if (Array.isArray(message.reasoning_details) && message.reasoning_details.length > 0) {
    fields.reasoning_details = message.reasoning_details;
  }
  return Object.keys(fields).length > 0 ? fields : undefined;
}

/**
 * Folds streamed reasoning into the fields a non-streamed answer would carry: `reasoning` and
 * `reasoning_content` concatenated; `reasoning_details` entries merged by `index` (and `type`): their
 * text, summary, signature and data concatenated, other fields set by the first piece that has them;
 * an entry without an index is appended.
 */
export class ReasoningAssembler {
  #reasoning: string | undefined;
  #reasoningContent: string | undefined;
  readonly #details: unknown[] = [];

  /** Adds one delta; returns its reasoning text ("" when it has none). */
  push(delta: ReasoningSource): string {
    if (typeof delta.reasoning === "string") this.#reasoning = (this.#reasoning ?? "") + delta.reasoning;
    if (typeof delta.reasoning_content === "string") {
      this.#reasoningContent = (this.#reasoningContent ?? "") + delta.reasoning_content;
    }
    for (const entry of delta.reasoning_details ?? []) this.#mergeDetail(entry);
    return deltaText(delta);
  }

  fields(): ReasoningFields | undefined {
    const fields: ReasoningFields = {};
    if (this.#reasoning !== undefined) fields.reasoning = this.#reasoning;
    if (this.#reasoningContent !== undefined) fields.reasoning_content = this.#reasoningContent;
    if (this.#details.length > 0) fields.reasoning_details = structuredClone(this.#details);
    return Object.keys(fields).length > 0 ? fields : undefined;
  }

  #mergeDetail(entry: unknown): void {
    if (!isRecord(entry) || typeof entry.index !== "number") {
      this.#details.push(structuredClone(entry));
      return;
    }
    const same = this.#details.findLast(
      (d): d is Record<string, unknown> =>
        isRecord(d) && d.index === entry.index && (entry.type === undefined || d.type === entry.type),
    );
    if (same === undefined) {
      this.#details.push(structuredClone(entry));
      return;
    }
    for (const [key, value] of Object.entries(entry)) {
      const current = same[key];
      if (piecewise.has(key) && typeof current === "string" && typeof value === "string") {
        same[key] = current + value;
      } else if (current === undefined || current === null) {
        same[key] = structuredClone(value);
      }
    }
  }
}

/**
 * The reasoning text of one delta: `reasoning` or `reasoning_content`, else the text or summary of its
 * `reasoning_details` (OpenRouter sends both forms of the same text; it is counted once).
 */
function deltaText(delta: ReasoningSource): string {
  if (delta.reasoning) return delta.reasoning;
  if (delta.reasoning_content) return delta.reasoning_content;
  return detailsText(delta.reasoning_details ?? []);
}

/** The readable text of `reasoning_details` entries: their `text`, else their `summary`. */
function detailsText(details: readonly unknown[]): string {
  let text = "";
  for (const entry of details) {
    if (!isRecord(entry)) continue;
    if (typeof entry.text === "string") text += entry.text;
    else if (typeof entry.summary === "string") text += entry.summary;
  }
  return text;
}
