import type { PendingEvent } from "@fusion/wire";
import type { EventSink } from "../event-sink.ts";
import type { ChunkBuilder } from "./chunks.ts";

/**
 * Writes one fusion's answer to its event stream in order. Text that arrives while an append is in
 * flight is coalesced into the next append, so a fast upstream costs fewer Redis round trips without
 * holding any text back when the stream is idle.
 */
export class AnswerEmitter {
  readonly #events: EventSink;
  readonly #fusionId: string;
  readonly #chunks: ChunkBuilder;
  readonly #beforeFirstText: (() => Promise<void>) | undefined;
  #marked = false;
  #pending = "";
  #inFlight: Promise<void> | undefined;
  #failure: unknown;
  /** True once any text has been handed to the emitter in this attempt. */
  emitted = false;

  /** `beforeFirstText` runs, and is awaited, before the first text of this attempt reaches the stream. */
  constructor(
    events: EventSink,
    fusionId: string,
    chunks: ChunkBuilder,
    beforeFirstText?: () => Promise<void>,
  ) {
    this.#events = events;
    this.#fusionId = fusionId;
    this.#chunks = chunks;
    this.#beforeFirstText = beforeFirstText;
  }

  text(text: string, model?: string): void {
    if (!text) return;
    if (model) this.#chunks.model = model;
    this.#pending += text;
    this.emitted = true;
    if (!this.#inFlight) this.#inFlight = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      if (!this.#marked) {
        this.#marked = true;
        await this.#beforeFirstText?.();
      }
      while (this.#pending) {
        const text = this.#pending;
        this.#pending = "";
        await this.#events.append(this.#fusionId, { type: "chunk", data: this.#chunks.content(text) });
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

  /** Writes the last entries of the stream in one atomic append, after any text still in flight. */
  async end(...events: PendingEvent[]): Promise<void> {
    await this.flush();
    await this.#events.append(this.#fusionId, ...events);
  }
}
