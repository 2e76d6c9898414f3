import { emptyUsage, type JudgeResult } from "@fusion/wire";
import { stageOf } from "../stages.ts";

/** The judge's result when the judge produced none (its job failed): the fusion failed unexpectedly. */
export function missingJudgeResult(judgeModel: string, reason: string): JudgeResult {
  return {
    result: { status: "error", error: reason, failure_reason: "unexpected_error" },
    panel: [],
    judge: stageOf(judgeModel, "failed", 0, emptyUsage(), undefined, reason),
    urls: [],
  };
}
