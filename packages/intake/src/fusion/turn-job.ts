import type { ProgressLevel, StoredTurnJobInput } from "@fusion/wire";
import type { FusionPlan } from "./classify.ts";

export interface TurnJobContext {
  fusionId: string;
  requestId: string;
  stream: boolean;
  includeUsage: boolean;
  /** The progress its stages write (see `progressLevel`). */
  progress: ProgressLevel;
  /** When the fusion was accepted (epoch ms). */
  createdAt: number;
}

/**
 * The writer's turn job for a planned fusion. An offered fusion starts at `decide` (the writer model
 * chooses whether to call the fusion); a forced one at `await-fusion`, its decision already made (see
 * pipeline `forcedDecision`). The caller's request (`plan.turnBody`) and a forced decision are not in
 * the job: the request is stored once with the fusion's conversation, and the decision is rebuilt
 * from the fusion call id stored beside it.
 */
export function turnJobFor(plan: FusionPlan, context: TurnJobContext): StoredTurnJobInput {
  const { fusionId, requestId, stream, includeUsage, progress, createdAt } = context;
  return {
    fusionId,
    requestId,
    progress,
    mode: plan.mode,
    stream,
    includeUsage,
    writerModel: plan.writerModel,
    settings: plan.settings,
    createdAt,
    step: plan.mode === "forced" ? "await-fusion" : "decide",
  };
}
