import { describeFailure } from "@fusion/llm-client";
import {
  addUsage,
  emptyUsage,
  type FusionToolResult,
  type JudgeJobData,
  type JudgeResult,
  type PanelResult,
  type ServerToolUse,
  type Stage,
  type Usage,
} from "@fusion/wire";
import { allRateLimited } from "../panel/panel-failure.ts";
import { progressReporter } from "../progress-reporter.ts";
import { buildJudgeMessages, buildPanelMessages } from "../prompts.ts";
import { type StagePorts, stageSignal } from "../stage-ports.ts";
import { panelStage, stageOf } from "../stages.ts";
import { callJudge } from "./judge-call.ts";

export type JudgeInput = Pick<
  JudgeJobData,
  "fusionId" | "messages" | "question" | "settings" | "progress"
> & {
  /** The panel's results, in panel order. */
  results: PanelResult[];
  /**
   * Ask for structured output as the judge model's provider supports it (a JSON Schema, else JSON
   * mode, else the prompt alone); false: the prompt alone. The analysis is validated either way.
   */
  structuredOutput: boolean;
  /** The judge's deadline, from when it starts. */
  timeoutMs: number;
};

export interface JudgePorts extends StagePorts {
  /** Told when the judge's JSON was unusable and it is asked once for a repair (a metric counts these). */
  onRepair?: () => void;
}

const CANCELLED: FusionToolResult = {
  status: "error",
  error: "the fusion was cancelled",
  failure_reason: "cancelled",
};

/**
 * The judge: reads the panel's answers and failures, asks the judge model to compare them (never
 * merge), recovers its JSON, repairs once. A judge that still fails leaves `status: "ok"` without
 * `analysis`; a panel with no answer at all is `all_panels_failed` (or `rate_limited` when every
 * panelist was refused with 429) and the judge is not called.
 */
export async function runJudge(input: JudgeInput, ports: JudgePorts): Promise<JudgeResult> {
  const { results, settings } = input;
  const judgeModel = settings.judgeModel;
  const { log } = ports;
  const progress = progressReporter(
    ports.events,
    input.fusionId,
    input.progress,
    { stage: "judge", model: judgeModel },
    log,
  );
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
    tools?: ServerToolUse,
    error?: string,
  ) => stageOf(judgeModel, status, Date.now() - started, usage, tools, error);
  const now = Date.now();

  if (results.some((r) => r.status === "cancelled") || (await ports.isCancelled())) {
    return {
      result: CANCELLED,
      panel,
      judge: judgeStage("cancelled", now, emptyUsage()),
      urls,
      cancelled: true,
    };
  }
  if (answers.length === 0) {
    log.warn({ failed: failed.map((f) => ({ model: f.model, error: f.error })) }, "every panelist failed");
    return {
      result: {
        status: "error",
        error: `every panel model failed: ${failed.map((f) => `${f.model}: ${f.error}`).join("; ")}`,
        failure_reason: allRateLimited(failed) ? "rate_limited" : "all_panels_failed",
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
  const deadline = AbortSignal.timeout(input.timeoutMs);
  const signal = stageSignal(ports, deadline);
  const spent: Usage[] = [];
  const started = Date.now();
  progress({ status: "started" });
  try {
    const judged = await callJudge(
      {
        model: judgeModel,
        settings,
        messages: buildJudgeMessages(
          buildPanelMessages(input.messages, input.question),
          answers.map((a) => ({ model: a.model, content: a.content, sources: a.urls })),
          failedModels,
        ),
        structuredOutput: input.structuredOutput,
        signal,
        progress,
        spent,
        ...(ports.onRepair ? { onRepair: ports.onRepair } : {}),
      },
      ports,
    );
    const { analysis } = judged;
    const allUrls = [...new Map([...urls, ...judged.urls].map((u) => [u.url, u])).values()];
    const usage = addUsage(...spent);
    if (!analysis.ok) {
      log.warn(
        { error: analysis.error },
        "judge failed after repair: returning the answers without analysis",
      );
      progress({ status: "failed", latency_ms: Date.now() - started, error: analysis.error, usage });
      await progress.flush();
      return {
        result: base,
        panel,
        judge: judgeStage("failed", started, usage, judged.serverToolUse, analysis.error),
        urls: allUrls,
      };
    }
    progress({ status: "finished", latency_ms: Date.now() - started, usage });
    await progress.flush();
    return {
      result: { ...base, analysis: analysis.analysis },
      panel,
      judge: judgeStage("ok", started, usage, judged.serverToolUse),
      urls: allUrls,
    };
  } catch (err) {
    if (signal.aborted && (await ports.isCancelled())) {
      return {
        result: CANCELLED,
        panel,
        judge: judgeStage("cancelled", started, addUsage(...spent)),
        urls,
        cancelled: true,
      };
    }
    const reason = deadline.aborted
      ? `the judge deadline (${input.timeoutMs} ms) passed`
      : describeFailure(err);
    log.warn({ reason }, "judge call failed: returning the answers without analysis");
    const usage = addUsage(...spent);
    progress({ status: "failed", latency_ms: Date.now() - started, error: reason, usage });
    await progress.flush();
    return {
      result: base,
      panel,
      judge: judgeStage("failed", started, usage, undefined, reason),
      urls,
    };
  }
}
