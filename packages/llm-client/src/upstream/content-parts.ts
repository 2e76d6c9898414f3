import { isRecord } from "./errors.ts";

/** Part types that carry the model's reasoning, never its answer (Mistral's `thinking`). */
const reasoningPartTypes = new Set(["thinking", "reasoning"]);

/** The answer text of an array `content`: its `text` parts joined; thinking parts are not text. */
export function partsText(parts: readonly unknown[]): string {
  let text = "";
  for (const part of parts) {
    if (isRecord(part) && part.type === "text" && typeof part.text === "string") text += part.text;
  }
  return text;
}

/** The reasoning text of an array `content`: the text of its thinking or reasoning parts. */
export function partsReasoning(parts: readonly unknown[]): string {
  let text = "";
  for (const part of parts) {
    if (isRecord(part) && typeof part.type === "string" && reasoningPartTypes.has(part.type)) {
      text += textIn(part.thinking) + textIn(part.reasoning) + textIn(part.text);
    }
  }
  return text;
}

/** A string, or the text of `{text}` parts (Mistral nests `[{type: "text", text}]` in a thinking part). */
function textIn(value: unknown): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return "";
  return value.map((p) => (isRecord(p) && typeof p.text === "string" ? p.text : "")).join("");
}

/**
 * Folds streamed `content` deltas (strings or arrays of parts) into the parts the non-streamed answer
 * would carry: consecutive text merged into one text part, consecutive thinking parts into one (their
 * strings concatenated, their nested text parts merged).
 */
export class ContentPartsAssembler {
  readonly #parts: Array<Record<string, unknown>> = [];
  #sawArray = false;

  /** Adds one delta's `content`; returns its answer text and its reasoning text. */
  push(content: string | readonly unknown[] | null | undefined): { text: string; reasoning: string } {
    if (typeof content === "string") {
      this.#appendText(content);
      return { text: content, reasoning: "" };
    }
    if (!Array.isArray(content)) return { text: "", reasoning: "" };
    this.#sawArray = true;
    for (const part of content) {
      if (!isRecord(part)) continue;
      if (part.type === "text" && typeof part.text === "string") this.#appendText(part.text);
      else this.#appendPart(part);
    }
    return { text: partsText(content), reasoning: partsReasoning(content) };
  }

  /** The assembled parts, when some delta sent an array (else the content was plain text). */
  parts(): unknown[] | undefined {
    return this.#sawArray ? this.#parts.map((part) => structuredClone(part)) : undefined;
  }

  #appendText(text: string): void {
    if (text === "") return;
    const last = this.#parts.at(-1);
    if (last?.type === "text" && typeof last.text === "string") last.text += text;
    else this.#parts.push({ type: "text", text });
  }

  #appendPart(part: Record<string, unknown>): void {
    const last = this.#parts.at(-1);
    if (last === undefined || last.type !== part.type || last.type === "text") {
      this.#parts.push(structuredClone(part));
      return;
    }
    for (const [key, value] of Object.entries(part)) {
      if (key === "type") continue;
      const current = last[key];
      if (typeof current === "string" && typeof value === "string") last[key] = current + value;
      else if (Array.isArray(current) && Array.isArray(value)) last[key] = mergeTextParts(current, value);
      else if (current === undefined || current === null) last[key] = structuredClone(value);
    }
  }
}

/** Appends `more` to `parts`, extending the last text part when both are text. */
function mergeTextParts(parts: unknown[], more: readonly unknown[]): unknown[] {
  const out = [...parts];
  for (const part of more) {
    const last = out.at(-1);
    if (isRecord(last) && isRecord(part) && last.type === "text" && part.type === "text") {
      out[out.length - 1] = { ...last, text: `${textIn(last.text)}${textIn(part.text)}` };
    } else {
      out.push(structuredClone(part));
    }
  }
  return out;
}
