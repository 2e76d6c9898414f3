import { describeFailure, runToolLoop, type ToolLoopInput } from "@fusion/llm-client";
import {
  addUsage,
  describeToolCall,
  emptyServerToolUse,
  innerCallBody,
  type PanelFailure,
  type PanelJobData,
  type PanelResult,
  type Usage,
} from "@fusion/wire";
import { progressReporter, toolResult } from "../progress-reporter.ts";
import { buildPanelMessages } from "../prompts.ts";
import { type StagePorts, stageSignal } from "../stage-ports.ts";
import { AnswerDeltas } from "./answer-deltas.ts";
import { answerText } from "./answer-text.ts";
import { NoTextError, panelFailureOf } from "./panel-failure.ts";
import { annotatedSources, mergeSources } from "./panel-sources.ts";

/** What a panelist may return at most; a judge reads every answer, so one runaway answer must not crowd out the rest. */
const MAX_ANSWER_CHARS = 40_000;
const MAX_URLS = 20;

export type PanelistInput = Pick<
  PanelJobData,
  "fusionId" | "index" | "model" | "messages" | "question" | "settings" | "progress"
> & {
  /** The panel stage's deadline: when it passes (epoch ms), and the stage's time limit (for the message). */
  deadline: { at: number; timeoutMs: number };
};

/**
 * One panelist: its model's tool loop on the caller's conversation. A model that fails (upstream
 * error after retries, no text, the deadline) is returned as a failed result with the tokens it
 * spent and a typed `failure`, not thrown: the judge lists it in `failed_models` and the usage still
 * adds up. A cancelled fusion gives a `cancelled` result.
 */
export async function runPanelist(input: PanelistInput, ports: StagePorts): Promise<PanelResult> {
  const { fusionId, model, settings } = input;
  const { log } = ports;
  const started = Date.now();
  const spent: Usage[] = [];
  const result = (status: PanelResult["status"], error?: string, failure?: PanelFailure): PanelResult => ({
    model,
    status,
    content: "",
    ...(error ? { error } : {}),
    ...(failure ? { failure } : {}),
    usage: addUsage(...spent),
    serverToolUse: emptyServerToolUse(),
    urls: [],
    latencyMs: Date.now() - started,
  });
  const progress = progressReporter(
    ports.events,
    fusionId,
    input.progress,
    { stage: "panel", model, index: input.index },
    log,
  );
  /** At progress `full`: the calls stream, their text goes out as the answer will read. */
  const streaming = (): Pick<ToolLoopInput, "onTextDelta" | "onTextReset" | "onToolResult"> => {
    if (!progress.full) return {};
    const text = new AnswerDeltas();
    return {
      onTextDelta: (piece, step) => progress.delta(text.push(piece, step), step),
      onTextReset: (step) => {
        text.reset(step);
        progress.reset(step);
      },
      onToolResult: (call, outcome) => progress(toolResult(call, outcome)),
    };
  };

  if (await ports.isCancelled()) return result("cancelled");
  const deadline = AbortSignal.timeout(Math.max(0, input.deadline.at - Date.now()));
  progress({ status: "started" });
  const signal = stageSignal(ports, deadline);
  try {
    const out = await runToolLoop({
      client: ports.upstream,
      tools: ports.tools,
      model,
      messages: buildPanelMessages(input.messages, input.question),
      toolNames: settings.tools,
      maxSteps: settings.maxToolCalls,
      body: innerCallBody(settings),
      call: { signal, ...(ports.headers ? { headers: ports.headers } : {}) },
      onToolCall: (call) => progress({ status: "tool_call", ...describeToolCall(call.name, call.arguments) }),
      onUsage: (usage) => spent.push(usage),
      ...streaming(),
    });
    // The answer's text only: reasoning reaches neither the judge nor the fusion result.
    const content = answerText(out.turn.content);
    if (!content) throw new NoTextError(model);
    // The pages the provider cited itself come first, then those its tool calls searched and fetched.
    const urls = mergeSources(annotatedSources(out.turn.annotations), out.urls);
    const latencyMs = Date.now() - started;
    log.info({ latencyMs, steps: out.steps }, "panelist answered");
    progress({ status: "finished", latency_ms: latencyMs, usage: out.usage });
    await progress.flush();
    return {
      model,
      status: "ok",
      content: content.length > MAX_ANSWER_CHARS ? `${content.slice(0, MAX_ANSWER_CHARS)}…` : content,
      usage: out.usage,
      serverToolUse: out.serverToolUse,
      urls: urls.slice(0, MAX_URLS),
      latencyMs,
    };
  } catch (err) {
    if (signal.aborted && (await ports.isCancelled())) return result("cancelled");
    const reason = deadline.aborted
      ? `the panel deadline (${input.deadline.timeoutMs} ms) passed before ${model} answered`
      : describeFailure(err);
    const failure: PanelFailure = deadline.aborted ? { kind: "deadline" } : panelFailureOf(err);
    log.warn({ reason, failure }, "panelist failed");
    const failed = result("failed", reason, failure);
    progress({ status: "failed", latency_ms: failed.latencyMs, error: reason, usage: failed.usage });
    await progress.flush();
    return failed;
  }
}
