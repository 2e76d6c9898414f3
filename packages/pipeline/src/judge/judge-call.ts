import {
  assistantMessage,
  runToolLoop,
  type StructuredOutput,
  type ToolCallOutcome,
} from "@fusion/llm-client";
import {
  analysisJsonSchema,
  type ChatMessage,
  describeToolCall,
  type FusionSettings,
  innerCallBody,
  type ServerToolUse,
  type Usage,
} from "@fusion/wire";
import { type ProgressReporter, toolResult } from "../progress-reporter.ts";
import { repairMessage } from "../prompts.ts";
import type { StagePorts } from "../stage-ports.ts";
import { type AnalysisParse, parseAnalysis } from "./judge-json.ts";

export interface JudgeCallInput {
  model: string;
  settings: FusionSettings;
  messages: ChatMessage[];
  /**
   * Ask for structured output as the judge model's provider supports it (`response_format`:
   * json_schema, else json_object where it has JSON mode only); false: the prompt only.
   */
  structuredOutput: boolean;
  signal: AbortSignal;
  progress: ProgressReporter;
  /** Every call's usage, as it is spent (a failed call's usage still counts). */
  spent: Usage[];
  /** Told when the judge's JSON was unusable and it is asked once for a repair. */
  onRepair?: () => void;
}

export interface JudgeCallOutput {
  analysis: AnalysisParse;
  serverToolUse: ServerToolUse;
  urls: Array<{ url: string; title?: string }>;
}

/**
 * The judge model's comparison: its tool loop, then its JSON recovered from the reply; an unusable
 * reply is sent back once with what was wrong, and the repaired reply is read the same way.
 */
export async function callJudge(input: JudgeCallInput, ports: StagePorts): Promise<JudgeCallOutput> {
  const { model, settings, progress, spent } = input;
  const body: Record<string, unknown> = { ...innerCallBody(settings) };
  const format = analysisFormat(
    input.structuredOutput ? ports.upstream.capabilities(model).structuredOutput : "none",
  );
  if (format) body.response_format = format;
  const call = { signal: input.signal, ...(ports.headers ? { headers: ports.headers } : {}) };
  // At progress `full` every call streams and the judge's raw text goes out as it comes.
  const streamed = progress.full
    ? {
        onTextDelta: (text: string, step: number) => progress.delta(text, step),
        onTextReset: (step: number) => progress.reset(step),
        onToolResult: (c: { name: string; arguments: string }, outcome: ToolCallOutcome) =>
          progress(toolResult(c, outcome)),
      }
    : {};
  const loop = await runToolLoop({
    client: ports.upstream,
    tools: ports.tools,
    model,
    messages: input.messages,
    toolNames: settings.tools,
    maxSteps: settings.maxToolCalls,
    body,
    call,
    onToolCall: (c) => progress({ status: "tool_call", ...describeToolCall(c.name, c.arguments) }),
    onUsage: (usage) => spent.push(usage),
    ...streamed,
  });
  let analysis = parseAnalysis(loop.turn.content);
  if (!analysis.ok) {
    ports.log.info({ error: analysis.error }, "judge JSON unusable: asking once for a repair");
    input.onRepair?.();
    const repair = {
      ...body,
      model,
      messages: [...loop.messages, assistantMessage(loop.turn), repairMessage(analysis.error)],
    };
    // Streamed, the repaired reply is one step after the loop's last.
    const step = loop.steps + 1;
    const turn = progress.full
      ? await ports.upstream.streamTurn(repair, {
          ...call,
          onText: (text) => progress.delta(text, step),
          onRestart: () => progress.reset(step),
        })
      : (await ports.upstream.complete(repair, call)).turn;
    spent.push(turn.usage);
    analysis = parseAnalysis(turn.content);
  }
  return { analysis, serverToolUse: loop.serverToolUse, urls: loop.urls };
}

/** The `response_format` that asks for the analysis: its JSON Schema, JSON mode, or none (prompt only). */
function analysisFormat(supported: StructuredOutput): Record<string, unknown> | undefined {
  if (supported === "json_schema") {
    return {
      type: "json_schema",
      json_schema: { name: "fusion_analysis", strict: true, schema: analysisJsonSchema },
    };
  }
  return supported === "json_object" ? { type: "json_object" } : undefined;
}
