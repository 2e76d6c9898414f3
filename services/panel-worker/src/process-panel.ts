import { describeFailure, runToolLoop, type ToolExecutor } from "@fusion/llm-client";
import { progressReporter } from "@fusion/pipeline";
import {
  isCancelled,
  type PanelJobData,
  panelJobSchema,
  parseJobData,
  type WorkerRuntime,
} from "@fusion/runtime";
import {
  addUsage,
  describeToolCall,
  emptyServerToolUse,
  innerCallBody,
  type PanelResult,
  type Usage,
} from "@fusion/wire";
import type { Job } from "bullmq";

/** What a panelist may return at most; a judge reads every answer, so one runaway answer must not crowd out the rest. */
const MAX_ANSWER_CHARS = 40_000;
const MAX_URLS = 20;

/**
 * One panelist: its model's tool loop. A model that fails (upstream error after retries, no text)
 * is returned as a failed result with the tokens it spent, not thrown: the judge lists it in
 * `failed_models` and the usage still adds up. Only a crash of the process fails the job itself.
 */
export interface PanelOptions {
  /** The panel stage's deadline, counted from when the panel job was created. */
  timeoutMs: number;
}

export function createPanelProcessor(runtime: WorkerRuntime, tools: ToolExecutor, options: PanelOptions) {
  return async (job: Job<PanelJobData>, _token?: string, signal?: AbortSignal): Promise<PanelResult> => {
    const data = parseJobData(panelJobSchema, job.data, "panel");
    const started = Date.now();
    const log = runtime.logger.child({
      fusionId: data.fusionId,
      requestId: data.requestId,
      model: data.model,
    });
    const spent: Usage[] = [];
    const result = (status: PanelResult["status"], error?: string): PanelResult => ({
      model: data.model,
      status,
      content: "",
      ...(error ? { error } : {}),
      usage: addUsage(...spent),
      serverToolUse: emptyServerToolUse(),
      urls: [],
      latencyMs: Date.now() - started,
    });
    const progress = progressReporter(
      runtime.events,
      data.fusionId,
      data.emitProgress,
      { stage: "panel", model: data.model, index: data.index },
      log,
    );

    if (await isCancelled(runtime.redis, data.fusionId)) return result("cancelled");
    const deadline = AbortSignal.timeout(Math.max(0, job.timestamp + options.timeoutMs - Date.now()));
    progress({ status: "started" });
    const reg = runtime.cancel.register(
      data.fusionId,
      signal ? AbortSignal.any([signal, deadline]) : deadline,
    );
    try {
      const out = await runToolLoop({
        client: runtime.upstream,
        tools,
        model: data.model,
        messages: data.messages,
        toolNames: data.settings.tools,
        maxSteps: data.settings.maxToolCalls,
        body: innerCallBody(data.settings),
        call: { signal: reg.signal, headers: runtime.innerHeaders },
        onToolCall: (call) =>
          progress({ status: "tool_call", ...describeToolCall(call.name, call.arguments) }),
        onUsage: (usage) => spent.push(usage),
      });
      const content = out.turn.content.trim();
      if (!content) throw new Error(`${data.model} returned no text`);
      const latencyMs = Date.now() - started;
      log.info({ latencyMs, steps: out.steps }, "panelist answered");
      progress({ status: "finished", latency_ms: latencyMs });
      return {
        model: data.model,
        status: "ok",
        content: content.length > MAX_ANSWER_CHARS ? `${content.slice(0, MAX_ANSWER_CHARS)}…` : content,
        usage: out.usage,
        serverToolUse: out.serverToolUse,
        urls: out.urls.slice(0, MAX_URLS),
        latencyMs,
      };
    } catch (err) {
      if (reg.signal.aborted && (await isCancelled(runtime.redis, data.fusionId))) return result("cancelled");
      const reason = deadline.aborted
        ? `the panel deadline (${options.timeoutMs} ms) passed before ${data.model} answered`
        : describeFailure(err);
      log.warn({ reason }, "panelist failed");
      const failed = result("failed", reason);
      progress({ status: "failed", latency_ms: failed.latencyMs, error: reason });
      return failed;
    } finally {
      reg.release();
    }
  };
}
