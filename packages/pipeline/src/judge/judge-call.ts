import { runToolLoop } from "@fusion/llm-client";
import {
  analysisJsonSchema,
  type ChatMessage,
  describeToolCall,
  type FusionSettings,
  innerCallBody,
  type ServerToolUse,
  type Usage,
} from "@fusion/wire";
import type { ProgressReporter } from "../progress-reporter.ts";
import { repairMessage } from "../prompts.ts";
import type { StagePorts } from "../stage-ports.ts";
import { type AnalysisParse, parseAnalysis } from "./judge-json.ts";

export interface JudgeCallInput {
  model: string;
  settings: FusionSettings;
  messages: ChatMessage[];
  /** Ask for `response_format: json_schema` (structured output) where the upstream supports it. */
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
  if (input.structuredOutput) {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: "fusion_analysis", strict: true, schema: analysisJsonSchema },
    };
  }
  const call = { signal: input.signal, ...(ports.headers ? { headers: ports.headers } : {}) };
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
  });
  let analysis = parseAnalysis(loop.turn.content);
  if (!analysis.ok) {
    ports.log.info({ error: analysis.error }, "judge JSON unusable: asking once for a repair");
    input.onRepair?.();
    const { turn } = await ports.upstream.complete(
      {
        ...body,
        model,
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
  return { analysis, serverToolUse: loop.serverToolUse, urls: loop.urls };
}
