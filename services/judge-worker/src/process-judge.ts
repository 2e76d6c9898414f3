import { describeFailure, isRateLimitReason, runToolLoop, type ToolExecutor } from "@fusion/llm-client";
import {
  buildJudgeMessages,
  panelStage,
  parseAnalysis,
  progressReporter,
  repairMessage,
  stageOf,
} from "@fusion/pipeline";
import {
  isCancelled,
  type JudgeJobData,
  judgeJobSchema,
  metrics,
  parseJobData,
  type WorkerRuntime,
} from "@fusion/runtime";
import {
  addUsage,
  analysisJsonSchema,
  describeToolCall,
  emptyUsage,
  type FusionToolResult,
  innerCallBody,
  type JudgeResult,
  type PanelResult,
  panelResultSchema,
  type Stage,
  type Usage,
} from "@fusion/wire";
import type { Job } from "bullmq";
import { readChildren } from "./children.ts";

export interface JudgeOptions {
  /** Ask for `response_format: json_schema` (structured output) where the upstream supports it. */
  structuredOutput: boolean;
  /** The judge's deadline, from when it starts. */
  timeoutMs: number;
}

/**
 * The judge: reads the panel's answers and failures, asks the judge model to compare them (never
 * merge), recovers its JSON, repairs once. A judge that still fails leaves `status: "ok"` without
 * `analysis`; a panel with no answer at all is `all_panels_failed` and the judge is not called.
 */
export function createJudgeProcessor(runtime: WorkerRuntime, tools: ToolExecutor, options: JudgeOptions) {
  return async (job: Job<JudgeJobData>, _token?: string, signal?: AbortSignal): Promise<JudgeResult> => {
    const data = parseJobData(judgeJobSchema, job.data, "judge");
    const judgeModel = data.settings.judgeModel;
    const log = runtime.logger.child({ fusionId: data.fusionId, requestId: data.requestId });
    const progress = progressReporter(
      runtime.events,
      data.fusionId,
      data.emitProgress,
      { stage: "judge", model: judgeModel },
      log,
    );

    const { values, failures } = await readChildren(job);
    const results: PanelResult[] = data.panel.map(({ jobId, model }) => {
      const value = panelResultSchema.safeParse(values.get(jobId));
      if (value.success) return value.data;
      // The panel job itself failed (its process died past its stall limit, or its data was bad).
      const reason = failures.get(jobId) ?? "the panelist produced no result";
      return {
        model,
        status: "failed",
        content: "",
        error: reason,
        usage: emptyUsage(),
        serverToolUse: { web_search_requests: 0, tool_calls_requested: 0, tool_calls_executed: 0 },
        urls: [],
        latencyMs: 0,
      };
    });
    const panel = results.map(panelStage);
    const answers = results.filter((r) => r.status === "ok");
    const failed = results.filter((r) => r.status === "failed");
    const urls = [...new Map(answers.flatMap((a) => a.urls).map((u) => [u.url, u])).values()];
    const failedModels = failed.map((f) => f.model);
    const responses = answers.map((a) => ({ model: a.model, content: a.content }));
    const judgeStage = (
      status: Stage["status"],
      started: number,
      usage: Usage,
      loopTools?: Parameters<typeof stageOf>[4],
      error?: string,
    ) => stageOf(judgeModel, status, Date.now() - started, usage, loopTools, error);
    const now = Date.now();

    if (results.some((r) => r.status === "cancelled") || (await isCancelled(runtime.redis, data.fusionId))) {
      return {
        result: { status: "error", error: "the fusion was cancelled", failure_reason: "cancelled" },
        panel,
        judge: judgeStage("cancelled", now, emptyUsage()),
        urls,
        cancelled: true,
      };
    }
    if (answers.length === 0) {
      const rateLimited = failed.length > 0 && failed.every((f) => isRateLimitReason(f.error ?? ""));
      log.warn({ failed: failed.map((f) => ({ model: f.model, error: f.error })) }, "every panelist failed");
      return {
        result: {
          status: "error",
          error: `every panel model failed: ${failed.map((f) => `${f.model}: ${f.error}`).join("; ")}`,
          failure_reason: rateLimited ? "rate_limited" : "all_panels_failed",
          failed_models: failedModels,
        },
        panel,
        judge: judgeStage("skipped", now, emptyUsage()),
        urls,
      };
    }

    const base: Extract<FusionToolResult, { status: "ok" }> = {
      status: "ok",
      responses,
      ...(failedModels.length ? { failed_models: failedModels } : {}),
    };
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const reg = runtime.cancel.register(
      data.fusionId,
      signal ? AbortSignal.any([signal, deadline]) : deadline,
    );
    const spent: Usage[] = [];
    const started = Date.now();
    progress({ status: "started" });
    try {
      const body: Record<string, unknown> = { ...innerCallBody(data.settings) };
      if (options.structuredOutput) {
        body.response_format = {
          type: "json_schema",
          json_schema: { name: "fusion_analysis", strict: true, schema: analysisJsonSchema },
        };
      }
      const call = { signal: reg.signal, headers: runtime.innerHeaders };
      const loop = await runToolLoop({
        client: runtime.upstream,
        tools,
        model: judgeModel,
        messages: buildJudgeMessages(data.messages, responses, failedModels),
        toolNames: data.settings.tools,
        maxSteps: data.settings.maxToolCalls,
        body,
        call,
        onToolCall: (c) => progress({ status: "tool_call", ...describeToolCall(c.name, c.arguments) }),
        onUsage: (usage) => spent.push(usage),
      });
      let analysis = parseAnalysis(loop.turn.content);
      if (!analysis.ok) {
        log.info({ error: analysis.error }, "judge JSON unusable: asking once for a repair");
        metrics.judgeRepairs.inc();
        const { turn } = await runtime.upstream.complete(
          {
            ...body,
            model: judgeModel,
            messages: [
              ...loop.messages,
              { role: "assistant", content: loop.turn.content },
              repairMessage(analysis.error),
            ],
          },
          call,
        );
        spent.push(turn.usage);
        analysis = parseAnalysis(turn.content);
      }
      const allUrls = [...new Map([...urls, ...loop.urls].map((u) => [u.url, u])).values()];
      const usage = addUsage(...spent);
      if (!analysis.ok) {
        log.warn(
          { error: analysis.error },
          "judge failed after repair: returning the answers without analysis",
        );
        progress({ status: "failed", latency_ms: Date.now() - started, error: analysis.error });
        return {
          result: base,
          panel,
          judge: judgeStage("failed", started, usage, loop.serverToolUse, analysis.error),
          urls: allUrls,
        };
      }
      progress({ status: "finished", latency_ms: Date.now() - started });
      return {
        result: { ...base, analysis: analysis.analysis },
        panel,
        judge: judgeStage("ok", started, usage, loop.serverToolUse),
        urls: allUrls,
      };
    } catch (err) {
      if (reg.signal.aborted && (await isCancelled(runtime.redis, data.fusionId))) {
        return {
          result: { status: "error", error: "the fusion was cancelled", failure_reason: "cancelled" },
          panel,
          judge: judgeStage("cancelled", started, addUsage(...spent)),
          urls,
          cancelled: true,
        };
      }
      const reason = deadline.aborted
        ? `the judge deadline (${options.timeoutMs} ms) passed`
        : describeFailure(err);
      log.warn({ reason }, "judge call failed: returning the answers without analysis");
      progress({ status: "failed", latency_ms: Date.now() - started, error: reason });
      return {
        result: base,
        panel,
        judge: judgeStage("failed", started, addUsage(...spent), undefined, reason),
        urls,
      };
    } finally {
      reg.release();
    }
  };
}
