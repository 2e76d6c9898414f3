import { UpstreamError } from "@fusion/llm-client";
import { emptyServerToolUse, emptyUsage, type PanelFailure, type PanelResult } from "@fusion/wire";

/** Thrown inside a panelist's run when its model answered with no text. */
export class NoTextError extends Error {
  constructor(model: string) {
    super(`${model} returned no text`);
    this.name = "NoTextError";
  }
}

/** What kind of failure an error is: the upstream client's kind and status, else the stage's own. */
export function panelFailureOf(err: unknown): PanelFailure {
  if (err instanceof UpstreamError) {
    return err.status === undefined ? { kind: err.kind } : { kind: err.kind, status: err.status };
  }
  if (err instanceof NoTextError) return { kind: "no_text" };
  return { kind: "crashed" };
}

/** A panelist that produced no result at all (its job failed, e.g. its worker died past its stall limit). */
export function crashedPanelResult(model: string, reason: string): PanelResult {
  return {
    model,
    status: "failed",
    content: "",
    error: reason,
    failure: { kind: "crashed" },
    usage: emptyUsage(),
    serverToolUse: emptyServerToolUse(),
    urls: [],
    latencyMs: 0,
  };
}

/** Every panelist failed, and each was refused with 429: the fusion failed for rate limits. */
export function allRateLimited(failed: PanelResult[]): boolean {
  return failed.length > 0 && failed.every((f) => f.failure?.status === 429);
}
