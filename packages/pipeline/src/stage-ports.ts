import type { ToolExecutor, Upstream } from "@fusion/llm-client";
import type { EventSink } from "./event-sink.ts";

/** Where a stage logs: pino's logger is one; a test may collect the lines. */
export interface StageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * What a stage is given besides its input: the LLM client, the web tools, where its events go, a log,
 * and cancellation. The workers build these from their runtime (Redis, BullMQ); an in-process caller
 * builds them from plain objects.
 */
export interface StagePorts {
  upstream: Upstream;
  tools: ToolExecutor;
  events: EventSink;
  log: StageLogger;
  /** Aborts when the fusion is cancelled (or its job must stop): every upstream call of the stage stops. */
  signal?: AbortSignal;
  /** Whether the fusion was cancelled; asked before a stage starts and when its calls were aborted. */
  isCancelled(): Promise<boolean>;
  /** Headers of every call the stage makes upstream (e.g. the fusion depth). */
  headers?: Record<string, string>;
}

/** The signal of a stage's calls: the ports' signal and the stage's own deadline, whichever aborts first. */
export function stageSignal(ports: Pick<StagePorts, "signal">, deadline: AbortSignal): AbortSignal {
  return ports.signal ? AbortSignal.any([ports.signal, deadline]) : deadline;
}
