import type { ToolCallOutcome } from "@fusion/llm-client";
import type { PendingEvent, ProgressEvent, ProgressFields, ProgressLevel } from "@fusion/wire";
import { describeToolCall, progressEvent } from "@fusion/wire";
import type { EventSink } from "./event-sink.ts";

/** What a stage reports; the stage, its model and index are the reporter's. */
export type ProgressUpdate = Omit<ProgressFields, "stage" | "model" | "index">;

/**
 * Reports one stage's progress to its fusion's stream. Call it with an update (started, tool_call,
 * tool_result, finished, failed); `delta` and `reset` carry the stage's text. What is sent depends on
 * the fusion's progress level: nothing at `none`; at `events`, the updates without text, tool results
 * or usage (fire-and-forget, as always); at `full`, everything, in order (see `fullProgress`).
 */
export interface ProgressReporter {
  (update: ProgressUpdate): void;
  /** Whether the stage's text, tool results and usage are sent (progress `full`). */
  readonly full: boolean;
  /** A piece of the stage's text at tool-loop step `step`; sent only at `full`, coalesced. */
  delta(text: string, step: number): void;
  /** The text told so far of `step` is void (its call was restarted upstream). */
  reset(step: number): void;
  /** Settles once everything reported so far is appended (or its failure logged). Never rejects. */
  flush(): Promise<void>;
  /**
   * The stage's last update, as the events to append with the stage's own last entries (one append
   * instead of two): settles once everything reported before it is appended, with what the update
   * is at this level (nothing at `none`). Report nothing after it.
   */
  last(update: ProgressUpdate): Promise<PendingEvent[]>;
}

/** The `tool_result` update of a tool call that ran: what it was asked, its latency, why it failed. */
export function toolResult(
  call: { name: string; arguments: string },
  outcome: ToolCallOutcome,
): ProgressUpdate {
  return {
    status: "tool_result",
    ...describeToolCall(call.name, call.arguments),
    latency_ms: outcome.latencyMs,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
  };
}

type Log = { warn(obj: object, msg: string): void };
type StageOf = Pick<ProgressFields, "stage" | "model" | "index">;

/** Most characters of one step's text sent as deltas: a panelist's answer is cut there too. */
export const MAX_STEP_TEXT_CHARS = 40_000;

/**
 * At progress `full`, the least time between the starts of two appends of one stage: text that flows
 * goes out in pieces of this long (about ten a second), not one stream entry per token; the first
 * event after a quiet spell goes at once.
 */
export const MIN_APPEND_GAP_MS = 100;

export interface ProgressReporterOptions {
  /** See `MIN_APPEND_GAP_MS` (tests may set 0). */
  minAppendGapMs?: number;
}

const settled = Promise.resolve();
const ignore = () => {};
const nothing = async (): Promise<PendingEvent[]> => [];

/**
 * The reporter of one stage at the fusion's progress level (`level`): see `ProgressReporter`. A lost
 * progress line is only logged: progress never fails a stage.
 */
export function progressReporter(
  events: EventSink,
  fusionId: string,
  level: ProgressLevel,
  stage: StageOf,
  log: Log,
  options: ProgressReporterOptions = {},
): ProgressReporter {
  if (level === "full") {
    return fullProgress(events, fusionId, stage, log, options.minAppendGapMs ?? MIN_APPEND_GAP_MS);
  }
  if (level === "none") {
    return Object.assign(ignore, {
      full: false,
      delta: ignore,
      reset: ignore,
      flush: () => settled,
      last: nothing,
    });
  }
  // The events level is what it always was: no text, no tool results, no usage.
  const eventOf = (update: ProgressUpdate): PendingEvent | undefined => {
    if (update.status === "delta" || update.status === "tool_result") return undefined;
    const { usage: _usage, ...fields } = update;
    return { type: "progress", data: progressEvent(fusionId, { ...stage, ...fields }) };
  };
  const report = (update: ProgressUpdate) => {
    const event = eventOf(update);
    if (!event) return;
    (events.appendSoon ? events.appendSoon(fusionId, event) : events.append(fusionId, event)).catch((err) =>
      log.warn({ err: (err as Error).message }, "could not write progress"),
    );
  };
  // Appends already given keep their order in the sink: the last update needs no wait.
  const last = async (update: ProgressUpdate) => {
    const event = eventOf(update);
    return event ? [event] : [];
  };
  return Object.assign(report, { full: false, delta: ignore, reset: ignore, flush: () => settled, last });
}

/**
 * Progress `full`: every update and piece of text goes through one queue, so that they reach the
 * stream in the order they happened, with at most one append in flight for the stage, and appends at
 * least `gapMs` apart. What arrives meanwhile goes into the next append, text joining the text of the
 * same step that waits (as the writer's `AnswerEmitter` does): a fast model costs few stream entries,
 * and the first event after a quiet spell goes at once. A step's text is sent up to
 * `MAX_STEP_TEXT_CHARS`. Only text waits for the gap: an update (a tool call, a result, the end) goes
 * out as soon as the append in flight is done, with the text waiting before it, so its entry's time
 * (the stream id, which clients draw timelines from) is when it happened.
 */
function fullProgress(
  events: EventSink,
  fusionId: string,
  stage: StageOf,
  log: Log,
  gapMs: number,
): ProgressReporter {
  let pending: ProgressEvent[] = [];
  let inFlight: Promise<void> | undefined;
  let lastAppend = Number.NEGATIVE_INFINITY;
  /** Ends the gap early: a status update (a tool call, the end) goes out when it happens, with the text before it. */
  let wake: (() => void) | undefined;
  /** Characters sent (or waiting) of each step's text since its last reset. */
  const told = new Map<number, number>();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => wake?.(), ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  const drain = async () => {
    while (pending.length) {
      const wait = lastAppend + gapMs - Date.now();
      // Only text waits for the gap: the time of an update's entry is the time it happened.
      if (wait > 0 && pending.every((e) => e.status === "delta")) await pause(wait);
      const batch = pending;
      pending = [];
      lastAppend = Date.now();
      try {
        await events.append(fusionId, ...batch.map((data) => ({ type: "progress" as const, data })));
      } catch (err) {
        log.warn({ err: (err as Error).message, events: batch.length }, "could not write progress");
      }
    }
    inFlight = undefined;
  };
  const push = (update: ProgressUpdate) => {
    pending.push(progressEvent(fusionId, { ...stage, ...update }));
    if (update.status !== "delta") wake?.();
    inFlight ??= drain();
  };

  const delta = (text: string, step: number) => {
    const used = told.get(step) ?? 0;
    let piece = text.slice(0, Math.max(0, MAX_STEP_TEXT_CHARS - used));
    // Never end on half of a surrogate pair.
    if (piece.length < text.length && /[\uD800-\uDBFF]$/.test(piece)) piece = piece.slice(0, -1);
    if (!piece) return;
    told.set(step, used + piece.length);
    const last = pending.at(-1);
    if (last?.status === "delta" && last.step === step) last.text = `${last.text ?? ""}${piece}`;
    else push({ status: "delta", text: piece, step });
  };

  const reset = (step: number) => {
    if (!told.has(step)) return;
    told.set(step, 0);
    // The step's text still waiting is void; what was sent is dropped by the client on `reset`.
    pending = pending.filter((e) => !(e.status === "delta" && e.step === step));
    push({ status: "delta", text: "", step, reset: true });
  };

  const flush = async () => {
    while (inFlight) await inFlight;
  };
  const last = async (update: ProgressUpdate): Promise<PendingEvent[]> => {
    await flush();
    return [{ type: "progress", data: progressEvent(fusionId, { ...stage, ...update }) }];
  };
  return Object.assign(push, { full: true, delta, reset, flush, last });
}
