import type { Processor } from "bullmq";
import { type FusionMetrics, metrics, type PanelOutcome } from "./fusion-metrics.ts";

/** Counts a panelist's result by model and outcome; returns the result unchanged. */
export function recordPanelResult<T extends { model: string; status: PanelOutcome }>(
  result: T,
  m: FusionMetrics = metrics,
): T {
  m.panelResults.inc({ model: m.modelLabel(result.model), outcome: result.status });
  return result;
}

/** Counts a judge job by what its result says; returns the result unchanged. */
export function recordJudgeResult<
  T extends { cancelled?: boolean; result: { status: string; failure_reason?: string; analysis?: unknown } },
>(judged: T, m: FusionMetrics = metrics): T {
  const { result } = judged;
  const outcome = judged.cancelled
    ? "cancelled"
    : result.status === "error"
      ? (result.failure_reason ?? "error")
      : result.analysis === undefined
        ? "no_analysis"
        : "ok";
  m.judgeResults.inc({ outcome });
  return judged;
}

/** Counts a failed upstream call. Calls the caller aborted (a cancelled fusion) are not errors. */
export function recordUpstreamError(
  err: { kind: string; status?: number },
  m: FusionMetrics = metrics,
): void {
  if (err.kind === "aborted") return;
  m.upstreamErrors.inc({ kind: err.kind, status: err.status === undefined ? "none" : String(err.status) });
}

/** Counts a failed web search by its provider and why it failed (auth, payment, rate_limited, ...). */
export function recordWebSearchError(provider: string, reason: string, m: FusionMetrics = metrics): void {
  m.webSearchErrors.inc({ provider, reason });
}

/** Counts a webhook delivery attempt by its outcome. */
export function recordWebhookDelivery(
  outcome: "delivered" | "retrying" | "failed",
  m: FusionMetrics = metrics,
): void {
  m.webhookDeliveries.inc({ outcome });
}

const suspensions = new Set(["WaitingChildrenError", "WaitingError", "DelayedError"]);

/** Times every run of a job processor as `fusion_stage_duration_seconds{stage}`. */
export function instrumentProcessor<D, R>(
  stage: string,
  processor: Processor<D, R>,
  m: FusionMetrics = metrics,
): Processor<D, R> {
  return async (job, token, signal) => {
    const end = m.stageDuration.startTimer({ stage });
    try {
      const result = await processor(job, token, signal);
      end({ outcome: "completed" });
      return result;
    } catch (err) {
      end({ outcome: suspensions.has((err as Error | undefined)?.name ?? "") ? "waiting" : "failed" });
      throw err;
    }
  };
}

/** Observes a finished turn job: `createdAt` is when the gateway accepted the request. */
export function observeFusionFinished(
  data: unknown,
  finishedAt: number,
  outcome: "completed" | "failed",
  m: FusionMetrics = metrics,
): void {
  const turn = (data ?? {}) as { createdAt?: unknown; decision?: unknown; mode?: unknown };
  if (typeof turn.createdAt !== "number") return;
  // A forced turn's decision lives with its conversation, not in the job: it always fuses.
  const fused = Boolean(turn.decision) || turn.mode === "forced";
  m.endToEnd.observe(
    { outcome, fused: fused ? "true" : "false" },
    Math.max(0, finishedAt - turn.createdAt) / 1000,
  );
}
