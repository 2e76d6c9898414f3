import { markFailed, tracer, tracingEnabled } from "@fusion/llm-client";
import { type Attributes, SpanStatusCode } from "@opentelemetry/api";
import type { Processor } from "bullmq";
import { queueNames } from "./job-catalog.ts";

/** The stage a queue's job is, as its span is named: a panelist, the judge, the writer (the calling model's turn). */
const stages: Record<string, string> = {
  [queueNames.panel]: "panel",
  [queueNames.judge]: "judge",
  [queueNames.turn]: "writer",
};

const suspensions = new Set(["WaitingChildrenError", "WaitingError", "DelayedError"]);

interface JobFields {
  fusionId?: unknown;
  requestId?: unknown;
  model?: unknown;
  index?: unknown;
  writerModel?: unknown;
  step?: unknown;
  settings?: { judgeModel?: unknown };
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/** What a job's data says about its fusion, as span attributes. */
function jobAttributes(queueName: string, data: unknown): { model?: string; attributes: Attributes } {
  const d = (data ?? {}) as JobFields;
  const model =
    queueName === queueNames.panel
      ? str(d.model)
      : queueName === queueNames.judge
        ? str(d.settings?.judgeModel)
        : str(d.writerModel);
  const attributes: Attributes = { "fusion.stage": stages[queueName] ?? queueName };
  if (str(d.fusionId)) attributes["fusion.id"] = str(d.fusionId);
  if (str(d.requestId)) attributes["fusion.request_id"] = str(d.requestId);
  if (model) attributes["gen_ai.request.model"] = model;
  if (typeof d.index === "number") attributes["fusion.panel.index"] = d.index;
  if (str(d.step)) attributes["fusion.step"] = str(d.step);
  return { ...(model ? { model } : {}), attributes };
}

/** How a finished job went, read from what its processor returned. */
function jobOutcome(result: unknown): { outcome: string; error?: string } {
  const r = (result ?? {}) as {
    status?: unknown;
    error?: unknown;
    cancelled?: unknown;
    result?: { status?: unknown; failure_reason?: unknown; analysis?: unknown; error?: unknown };
  };
  // A panelist's result.
  if (typeof r.status === "string") {
    return { outcome: r.status, ...(r.status === "failed" && str(r.error) ? { error: str(r.error) } : {}) };
  }
  // The judge's result.
  if (r.result && typeof r.result === "object") {
    if (r.cancelled) return { outcome: "cancelled" };
    if (r.result.status === "error") {
      const reason = str(r.result.failure_reason) ?? "error";
      return { outcome: reason, ...(str(r.result.error) ? { error: str(r.result.error) } : {}) };
    }
    return { outcome: r.result.analysis === undefined ? "no_analysis" : "ok" };
  }
  return { outcome: "completed" };
}

/**
 * Runs every job of a queue in a span named after its stage and model (`panel <model>`,
 * `judge <model>`, `writer <model>`): a child of BullMQ's `process <queue>` span, which continues the
 * trace of the request that created the job. A panelist that failed (returned, not thrown) marks its
 * span as an error; a turn handing off to its panel (WaitingChildrenError) is not one. With tracing
 * off, the processor is returned unchanged.
 */
export function traceProcessor<D, R>(queueName: string, processor: Processor<D, R>): Processor<D, R> {
  if (!tracingEnabled()) return processor;
  const stage = stages[queueName] ?? queueName;
  return (job, token, signal) => {
    const { model, attributes } = jobAttributes(queueName, job.data);
    attributes["messaging.message.id"] = job.id;
    attributes["fusion.attempt"] = job.attemptsMade + 1;
    return tracer().startActiveSpan(model ? `${stage} ${model}` : stage, { attributes }, async (span) => {
      try {
        const result = await processor(job, token, signal);
        const { outcome, error } = jobOutcome(result);
        span.setAttribute("fusion.outcome", outcome);
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error.slice(0, 500) });
        return result;
      } catch (err) {
        if (suspensions.has((err as Error | undefined)?.name ?? "")) {
          span.setAttribute("fusion.outcome", "waiting");
        } else {
          span.setAttribute("fusion.outcome", "failed");
          markFailed(span, err);
        }
        throw err;
      } finally {
        span.end();
      }
    });
  };
}
