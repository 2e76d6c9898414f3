import { crashedPanelResult } from "@fusion/pipeline";
import { type JudgeJobData, type PanelResult, panelResultSchema } from "@fusion/wire";
import type { Job } from "bullmq";
import { readChildren } from "../children.ts";

/**
 * The panel's results, in panel order, from the judge job's children. A panel job that failed itself
 * (its process died past its stall limit, or its data was bad) left no value: it counts as crashed.
 */
export async function readPanelResults(job: Job, panel: JudgeJobData["panel"]): Promise<PanelResult[]> {
  const { values, failures } = await readChildren(
    job,
    panel.map(({ jobId }) => jobId),
  );
  return panel.map(({ jobId, model }) => {
    const value = panelResultSchema.safeParse(values.get(jobId));
    if (value.success) return value.data;
    return crashedPanelResult(model, failures.get(jobId) ?? "the panelist produced no result");
  });
}
