import type {
  FusionSettings,
  ProgressLevel,
  StoredJudgeJob,
  StoredPanelJob,
  StoredTurnJobInput,
} from "@fusion/wire";
import type { FlowJob } from "bullmq";
import { fusionPriority, jobIds, jobOptions, queueNames, type RetentionOptions } from "./job-catalog.ts";

/**
 * The part of a fusion below the turn. The caller's conversation is not in it: it is stored once per
 * fusion (`conversation-store.ts`) and each worker loads it by the jobs' `fusionId`.
 */
export interface FusionFlowInput {
  fusionId: string;
  requestId: string;
  /**
   * The question for the panel when it differs from the conversation's last user message (the panel
   * and judge stages build their prompts from it and the conversation); leave it out otherwise.
   */
  question?: string | undefined;
  settings: FusionSettings;
  /** The progress the panel and judge write (see `ProgressLevel`). */
  progress: ProgressLevel;
  prefix: string;
  retention?: RetentionOptions;
  /** Background work (an async request, a batch's line): every job runs at `BACKGROUND_PRIORITY`. */
  background?: boolean | undefined;
}

/** The judge job with one panel child per model: the part of a fusion that runs below the turn. */
export function buildJudgeFlow(input: FusionFlowInput): FlowJob {
  const { fusionId, requestId, question, settings, prefix, retention, progress } = input;
  const priority = fusionPriority(input.background);
  const panel = settings.analysisModels.map((model, index) => ({
    jobId: jobIds.panel(fusionId, index),
    model,
  }));
  const asked = question === undefined ? {} : { question };
  const judgeData: StoredJudgeJob = { fusionId, requestId, progress, ...asked, settings, panel };
  return {
    name: "judge",
    queueName: queueNames.judge,
    prefix,
    data: judgeData,
    opts: { ...jobOptions(queueNames.judge, retention), ...priority, jobId: jobIds.judge(fusionId) },
    children: panel.map(({ jobId, model }, index) => {
      const data: StoredPanelJob = { fusionId, requestId, progress, index, model, ...asked, settings };
      return {
        name: "panel",
        queueName: queueNames.panel,
        prefix,
        data,
        opts: { ...jobOptions(queueNames.panel, retention), ...priority, jobId },
      };
    }),
  };
}

/** A forced fusion: the turn job with the judge flow already below it. */
export function buildForcedFlow(turn: StoredTurnJobInput, input: FusionFlowInput): FlowJob {
  return {
    name: "turn",
    queueName: queueNames.turn,
    prefix: input.prefix,
    data: turn,
    opts: {
      ...jobOptions(queueNames.turn, input.retention),
      ...fusionPriority(input.background),
      jobId: jobIds.turn(turn.fusionId),
    },
    children: [buildJudgeFlow(input)],
  };
}
