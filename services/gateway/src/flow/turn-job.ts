import { newToolCallId } from "@fusion/llm-client";
import { FUSION_TOOL_NAME, type TurnJobInput } from "@fusion/wire";
import type { FusionPlan } from "./classify.ts";

export interface TurnJobContext {
  fusionId: string;
  requestId: string;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * The writer's turn job for a planned fusion. An offered fusion starts at `decide` (the writer model
 * chooses whether to call the fusion); a forced one at `await-fusion`, its decision already made (see
 * `forcedDecision`).
 */
export function turnJobFor(plan: FusionPlan, context: TurnJobContext): TurnJobInput {
  const { fusionId, requestId, stream, includeUsage } = context;
  return {
    fusionId,
    requestId,
    emitProgress: stream,
    mode: plan.mode,
    stream,
    includeUsage,
    writerModel: plan.writerModel,
    body: plan.turnBody,
    settings: plan.settings,
    createdAt: Date.now(),
    step: plan.mode === "forced" ? "await-fusion" : "decide",
  };
}

/** The writer's decision a forced fusion starts with: one call of the fusion tool with the question. */
export function forcedDecision(plan: FusionPlan): NonNullable<TurnJobInput["decision"]> {
  const fusionCallId = newToolCallId();
  return {
    assistant: {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: fusionCallId,
          type: "function",
          function: { name: FUSION_TOOL_NAME, arguments: JSON.stringify({ question: plan.question }) },
        },
      ],
    },
    fusionCallId,
    question: plan.question,
    usage: {},
    extraCallIds: [],
  };
}
