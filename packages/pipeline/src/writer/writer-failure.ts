import { describeFailure, UpstreamError } from "@fusion/llm-client";
import type { ProgressReporter } from "../progress-reporter.ts";
import type { StageLogger } from "../stage-ports.ts";
import type { AnswerEmitter } from "./answer-emitter.ts";
import type { ChunkBuilder } from "./chunks.ts";
import type { WriterOutcome } from "./writer-ports.ts";

/** A failure of the writer's turn that running it again cannot mend. */
export class TurnStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TurnStoppedError";
  }
}

/** The HTTP status a client sees for the writer's failure. */
function statusFor(err: unknown): number {
  if (!(err instanceof UpstreamError)) return 500;
  if (err.kind === "timeout") return 408;
  if (err.status === 429) return 429;
  if (err.status && err.status >= 400 && err.status < 500) return err.status;
  return 502;
}

export interface TurnFailure {
  err: unknown;
  retriesLeft: boolean;
  emitter: AnswerEmitter;
  chunks: ChunkBuilder;
  progress: ProgressReporter;
  log: StageLogger;
  writerStarted: number;
}

/**
 * A failed run of the writer's turn. Before any text reached the client, a retryable failure is
 * retried (invisibly); otherwise the stream ends with an error chunk and an error entry, and the turn
 * is not run again: a retry would send text twice or splice two answers.
 */
export async function failTurn(failure: TurnFailure): Promise<WriterOutcome> {
  const { err, emitter, chunks, log } = failure;
  const retryable = err instanceof UpstreamError ? err.retryable : !(err instanceof TurnStoppedError);
  const reason = describeFailure(err);
  if (retryable && failure.retriesLeft && !emitter.emitted) {
    log.warn({ reason }, "turn failed before any output: retrying");
    return { status: "retry", error: err };
  }
  const status = statusFor(err);
  const message = `the model could not answer: ${reason}`;
  log.error({ reason }, "turn failed");
  failure.progress({ status: "failed", latency_ms: Date.now() - failure.writerStarted, error: reason });
  await failure.progress.flush();
  await emitter
    .end({ type: "chunk", data: chunks.error(status, message) }, { type: "error", data: { status, message } })
    .catch((e) => log.error({ err: (e as Error).message }, "could not write the error to the stream"));
  return { status: "failed", reason };
}
