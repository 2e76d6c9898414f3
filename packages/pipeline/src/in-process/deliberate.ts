import { describeFailure } from "@fusion/llm-client";
import type { ChatMessage, FusionSettings, JudgeResult, PanelResult, ProgressLevel } from "@fusion/wire";
import { type JudgePorts, runJudge } from "../judge/run-judge.ts";
import { crashedPanelResult } from "../panel/panel-failure.ts";
import { runPanelist } from "../panel/run-panelist.ts";
import { lastUserText } from "../prompts.ts";
import type { FusionWait, WriterPorts } from "../writer/writer-ports.ts";

export interface DeliberationOptions {
  /** The panel stage's deadline, from when the panel starts. */
  panelTimeoutMs: number;
  /** The judge's deadline, from when it starts. */
  judgeTimeoutMs: number;
  /** Ask the judge for structured output. */
  structuredOutput: boolean;
}

export interface DeliberationInput {
  fusionId: string;
  /** The caller's conversation. */
  messages: ChatMessage[];
  question?: string;
  settings: FusionSettings;
  progress: ProgressLevel;
}

/**
 * A fusion's panel and judge in this process, without queues: every panelist at once, then the
 * judge on their results. The same stages the workers run; a panelist that throws counts as crashed,
 * as a panel job that failed does.
 */
async function deliberate(
  input: DeliberationInput,
  options: DeliberationOptions,
  ports: JudgePorts,
): Promise<JudgeResult> {
  const deadline = { at: Date.now() + options.panelTimeoutMs, timeoutMs: options.panelTimeoutMs };
  const settled = await Promise.allSettled(
    input.settings.analysisModels.map((model, index) =>
      runPanelist({ ...input, index, model, deadline }, ports),
    ),
  );
  const results = settled.map(
    (s, index): PanelResult =>
      s.status === "fulfilled"
        ? s.value
        : crashedPanelResult(input.settings.analysisModels[index] ?? "", describeFailure(s.reason)),
  );
  return runJudge(
    { ...input, results, structuredOutput: options.structuredOutput, timeoutMs: options.judgeTimeoutMs },
    ports,
  );
}

/** The writer's `awaitFusion` for an in-process caller: deliberates at once, never suspends. */
export function deliberateInProcess(
  options: DeliberationOptions,
  ports: JudgePorts,
): WriterPorts["awaitFusion"] {
  return async (turn): Promise<FusionWait> => {
    const judge = await deliberate(
      {
        fusionId: turn.fusionId,
        messages: turn.body.messages,
        question: turn.decision?.question ?? lastUserText(turn.body.messages),
        settings: turn.settings,
        progress: turn.progress,
      },
      options,
      ports,
    );
    return { status: "judged", judge };
  };
}
