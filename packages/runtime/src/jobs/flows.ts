import type { ChatMessage, FusionSettings, JudgeJobData, PanelJobData, TurnJobInput } from "@fusion/wire";
import type { FlowJob } from "bullmq";
import { jobIds, jobOptions, queueNames, type RetentionOptions } from "./job-catalog.ts";

export interface FusionFlowInput {
  fusionId: string;
  requestId: string;
  /** The caller's conversation. */
  messages: ChatMessage[];
  /** The question for the panel; the panel and judge stages build their prompts from it and the conversation. */
  question?: string;
  settings: FusionSettings;
  emitProgress: boolean;
  prefix: string;
  retention?: RetentionOptions;
}

/** The judge job with one panel child per model: the part of a fusion that runs below the turn. */
export function buildJudgeFlow(input: FusionFlowInput): FlowJob {
  const { fusionId, requestId, messages, question, settings, prefix, retention, emitProgress } = input;
  const panel = settings.analysisModels.map((model, index) => ({
    jobId: jobIds.panel(fusionId, index),
    model,
  }));
  const judgeData: JudgeJobData = {
    fusionId,
    requestId,
    emitProgress,
    messages,
    question,
    settings,
    panel,
  };
  return {
    name: "judge",
    queueName: queueNames.judge,
    prefix,
    data: judgeData,
    opts: { ...jobOptions(queueNames.judge, retention), jobId: jobIds.judge(fusionId) },
    children: panel.map(({ jobId, model }, index) => {
      const data: PanelJobData = {
        fusionId,
        requestId,
        emitProgress,
        index,
        model,
        messages,
        question,
        settings,
      };
      return {
        name: "panel",
        queueName: queueNames.panel,
        prefix,
        data,
        opts: { ...jobOptions(queueNames.panel, retention), jobId },
      };
    }),
  };
}

/** A forced fusion: the turn job with the judge flow already below it. */
export function buildForcedFlow(turn: TurnJobInput, input: FusionFlowInput): FlowJob {
  return {
    name: "turn",
    queueName: queueNames.turn,
    prefix: input.prefix,
    data: turn,
    opts: { ...jobOptions(queueNames.turn, input.retention), jobId: jobIds.turn(turn.fusionId) },
    children: [buildJudgeFlow(input)],
  };
}
