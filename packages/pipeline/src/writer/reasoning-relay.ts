import type { AssistantTurn, ChatCompletionChunk } from "@fusion/wire";
import type { AnswerEmitter } from "./answer-emitter.ts";
import { chunkReasoningDetails, clientReasoning } from "./reasoning.ts";

/** Opaque fields of a `reasoning_details` entry that must come back whole (a signature, encrypted data). */
const OPAQUE = ["signature", "data"] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Relays one streamed call's reasoning to the client as it arrives, the way OpenRouter streams it:
 * each delta's reasoning text as `delta.reasoning`, with the `reasoning_details` that delta carried
 * (a client that shows either form then shows the text once, and merging the details by `index`
 * gives back the provider's blocks).
 */
export class ReasoningRelay {
  readonly #emitter: AnswerEmitter;
  #textSent = false;
  readonly #detailsSent: unknown[] = [];

  constructor(emitter: AnswerEmitter) {
    this.#emitter = emitter;
  }

  /** One delta's reasoning (`onReasoning` of the upstream's `streamTurn`). */
  delta(text: string, chunk: ChatCompletionChunk): void {
    const details = chunkReasoningDetails(chunk);
    if (text) this.#textSent = true;
    this.#detailsSent.push(...details);
    this.#emitter.reasoning(text, details, chunk.model);
  }

  /**
   * After the call, in one chunk, the reasoning the turn carries that no relayed delta did: all of it
   * when no delta was relayed (an upstream that assembles without `onReasoning`, or reasoning that is
   * only structured blocks, e.g. OpenAI's encrypted reasoning through OpenRouter); else the opaque
   * fields of each block that arrived on deltas without text (e.g. an Anthropic thinking block's
   * signature), so that the client's blocks, merged by `index`, are whole.
   */
  end(turn: AssistantTurn): void {
    const { reasoning = "", reasoning_details = [] } = clientReasoning({
      ...turn.reasoning,
      contentParts: turn.contentParts,
    });
    const text = this.#textSent ? "" : reasoning;
    const details = this.#detailsSent.length
      ? reasoning_details.flatMap((d) => this.#unsent(d))
      : reasoning_details;
    this.#emitter.reasoning(text, details);
  }

  /** A block's opaque fields that no relayed piece of the same block carried, as one more piece (or none). */
  #unsent(block: unknown): unknown[] {
    if (!isRecord(block)) return [];
    const pieces = this.#detailsSent.filter(
      (d): d is Record<string, unknown> => isRecord(d) && d.index === block.index && d.type === block.type,
    );
    const missing = OPAQUE.filter((f) => block[f] && !pieces.some((p) => p[f]));
    if (missing.length === 0) return [];
    const { text: _text, summary: _summary, ...rest } = block;
    return [rest];
  }
}
