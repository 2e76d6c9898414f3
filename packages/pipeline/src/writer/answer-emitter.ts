import type { PendingEvent } from "@fusion/wire";
import type { EventSink } from "../event-sink.ts";
import type { ChunkBuilder } from "./chunks.ts";

/** What waits to be appended: text, or reasoning (its text and the provider's structured blocks). */
type Piece = { kind: "text"; text: string } | { kind: "reasoning"; text: string; details: unknown[] };

/**
 * Writes one fusion's answer to its event stream in order: the writer's reasoning and its text.
 * What arrives while an append is in flight goes into the next append (text after text, or reasoning
 * text after reasoning text, coalesced into one chunk; reasoning with structured blocks keeps its own
 * chunk, as the provider sent it), so a fast upstream costs fewer Redis round trips without holding
 * anything back when the stream is idle.
 */
export class AnswerEmitter {
  readonly #events: EventSink;
  readonly #fusionId: string;
  readonly #chunks: ChunkBuilder;
  readonly #firstAppend: ((...events: PendingEvent[]) => Promise<string>) | undefined;
  #appended = false;
  #pending: Piece[] = [];
  #inFlight: Promise<void> | undefined;
  #failure: unknown;
  /** True once anything (text or reasoning) has been handed to the emitter in this attempt. */
  emitted = false;
  /** True once answer text has been handed to the emitter in this attempt. */
  textEmitted = false;

  /**
   * `firstAppend`, when given, appends the first output of this attempt instead of `events` (the
   * writer's turn records there, in the same step, that the step sent output); later appends go to
   * `events`.
   */
  constructor(
    events: EventSink,
    fusionId: string,
    chunks: ChunkBuilder,
    firstAppend?: (...events: PendingEvent[]) => Promise<string>,
  ) {
    this.#events = events;
    this.#fusionId = fusionId;
    this.#chunks = chunks;
    this.#firstAppend = firstAppend;
  }

  text(text: string, model?: string): void {
    if (!text) return;
    this.textEmitted = true;
    const last = this.#pending.at(-1);
    if (last?.kind === "text") last.text += text;
    else this.#pending.push({ kind: "text", text });
    this.#send(model);
  }

  /** The writer's reasoning: a text delta, and the `reasoning_details` its chunk carried. */
  reasoning(text: string, details: unknown[] = [], model?: string): void {
    if (!text && details.length === 0) return;
    const last = this.#pending.at(-1);
    if (last?.kind === "reasoning" && last.details.length === 0 && details.length === 0) last.text += text;
    else this.#pending.push({ kind: "reasoning", text, details });
    this.#send(model);
  }

  #send(model: string | undefined): void {
    if (model) this.#chunks.model = model;
    this.emitted = true;
    if (!this.#inFlight) this.#inFlight = this.#drain();
  }

  #chunk(piece: Piece): PendingEvent {
    const data =
      piece.kind === "text"
        ? this.#chunks.content(piece.text)
        : this.#chunks.reasoning(piece.text, piece.details);
    return { type: "chunk", data };
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length) {
        const pieces = this.#pending;
        this.#pending = [];
        const events = pieces.map((p) => this.#chunk(p));
        if (this.#appended || !this.#firstAppend) await this.#events.append(this.#fusionId, ...events);
        else {
          this.#appended = true;
          await this.#firstAppend(...events);
        }
      }
    } catch (err) {
      this.#failure = err;
    } finally {
      this.#inFlight = undefined;
    }
  }

  async flush(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
    if (this.#failure) throw this.#failure;
  }

  /** Writes the last entries of the stream in one atomic append, after anything still in flight. */
  async end(...events: PendingEvent[]): Promise<void> {
    await this.flush();
    await this.#events.append(this.#fusionId, ...events);
  }
}
