/** Where one step's text stands: before its first word, inside a leading `<think>` block, or in its text. */
type Phase = "lead" | "think" | "after-think" | "text";

interface StepText {
  phase: Phase;
  /** What is held back: the lead so far, or the think block so far. */
  held: string;
  /** White space at the end of what was told, held until more text follows it. */
  space: string;
}

const OPEN = "<think>";
const CLOSE = "</think>";

/**
 * A panelist's streamed text as its answer reads (`answerText`): each step's text without a leading
 * `<think>…</think>` block (one never closed holds back the rest), without white space at either end.
 * So the deltas of a panelist's last step, joined, are its answer's text.
 */
export class AnswerDeltas {
  readonly #steps = new Map<number, StepText>();

  /** The part of `text` (the next piece of `step`'s text) to tell now; may be empty. */
  push(text: string, step: number): string {
    let s = this.#steps.get(step);
    if (!s) {
      s = { phase: "lead", held: "", space: "" };
      this.#steps.set(step, s);
    }
    switch (s.phase) {
      case "lead": {
        const lead = (s.held + text).trimStart();
        if (lead === "" || (lead.length < OPEN.length && OPEN.startsWith(lead))) {
          s.held = lead;
          return "";
        }
        s.held = "";
        if (!lead.startsWith(OPEN)) {
          s.phase = "text";
          return this.#tell(s, lead);
        }
        s.phase = "think";
        return this.#think(s, lead.slice(OPEN.length));
      }
      case "think":
        return this.#think(s, text);
      case "after-think":
        return this.#afterThink(s, text);
      case "text":
        return this.#tell(s, text);
    }
  }

  /** The step starts over (its call was restarted). */
  reset(step: number): void {
    this.#steps.delete(step);
  }

  #think(s: StepText, text: string): string {
    const block = s.held + text;
    const end = block.indexOf(CLOSE);
    if (end < 0) {
      s.held = block;
      return "";
    }
    s.held = "";
    s.phase = "after-think";
    return this.#afterThink(s, block.slice(end + CLOSE.length));
  }

  #afterThink(s: StepText, text: string): string {
    const rest = text.trimStart();
    if (rest === "") return "";
    s.phase = "text";
    return this.#tell(s, rest);
  }

  /** Tells `text` after any white space held, holding back the white space it ends with. */
  #tell(s: StepText, text: string): string {
    const all = s.space + text;
    const trimmed = all.trimEnd();
    s.space = all.slice(trimmed.length);
    return trimmed;
  }
}
