import type { Upstream } from "@fusion/llm-client";
import type { JudgeResult, PendingEvent, TurnJobData, TurnStep } from "@fusion/wire";
import type { EventSink } from "../event-sink.ts";
import type { StageLogger } from "../stage-ports.ts";

/** What waiting for the fusion gave: the judge's result, or "suspended" (the run ends; it is resumed later). */
export type FusionWait = { status: "judged"; judge: JudgeResult } | { status: "suspended" };

/**
 * What the writer's turn is given besides its data. The turn worker keeps the step bookkeeping in
 * Redis and the job, and waits for the fusion with BullMQ's waiting-children pattern; an in-process
 * caller runs the panel and the judge directly in `awaitFusion`.
 */
export interface WriterPorts {
  upstream: Upstream;
  events: EventSink;
  log: StageLogger;
  /** Aborts when the fusion is cancelled (or the job must stop). */
  signal?: AbortSignal;
  isCancelled(): Promise<boolean>;
  /** Keeps the turn's progress (its step and decision), so that a retried or resumed run continues where it was. */
  saveState(turn: TurnJobData): Promise<void>;
  /** Whether an earlier run of this step already sent text to the client. */
  textEmitted(step: TurnStep): Promise<boolean>;
  /**
   * Appends a step's first output (text or reasoning) to the fusion's stream and records, in the same
   * atomic step, that the step sent output: `textEmitted` then says so to any later run of the step.
   */
  appendFirstOutput(step: TurnStep, ...events: PendingEvent[]): Promise<string>;
  /**
   * The fusion's result, once the writer called fusion (or it was forced): start the panel and the
   * judge if they have not started, and give their result or suspend until they finish.
   */
  awaitFusion(turn: TurnJobData): Promise<FusionWait>;
}

export interface WriterOptions {
  /** Whether the run may be retried: a retryable failure before any text then ends in `retry`. */
  retriesLeft: boolean;
}

/**
 * How a run of the writer's turn ended. `done`: the answer (or the cancellation) is written.
 * `suspended`: waiting for the fusion. `retry`: failed before any text reached the client; run it
 * again. `failed`: the stream ends with an error already written; do not run it again.
 */
export type WriterOutcome =
  | { status: "done" }
  | { status: "suspended" }
  | { status: "retry"; error: unknown }
  | { status: "failed"; reason: string };
