import { missingJudgeResult } from "@fusion/pipeline";
import { jobIds } from "@fusion/runtime";
import { type JudgeResult, judgeResultSchema } from "@fusion/wire";
import type { Job } from "bullmq";
import { readChildren } from "../children.ts";

/** The judge's result, from the turn job's child; a judge job that failed left its failure instead. */
export async function readJudge(job: Job, fusionId: string, judgeModel: string): Promise<JudgeResult> {
  const { values, failures } = await readChildren(job, [jobIds.judge(fusionId)]);
  const parsed = judgeResultSchema.safeParse(values.get(jobIds.judge(fusionId)));
  if (parsed.success) return parsed.data;
  return missingJudgeResult(
    judgeModel,
    failures.get(jobIds.judge(fusionId)) ?? "the judge produced no result",
  );
}
