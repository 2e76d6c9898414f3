import { batchJobIds, type LaneLines, type LineJobData, lineJobOptions } from "@fusion/intake";
import type { Queue } from "bullmq";

/** A line job's parent: its batch job (`queue`: the batch queue's qualified name, `<prefix>:batch`). */
export interface BatchParent {
  id: string;
  queue: string;
}

type BatchOfLine = Pick<LineJobData, "batchId" | "owner" | "fileId">;

/** Adds the jobs of some lines of a batch, as children of its batch job (ids `<batch>-line-<index>`). */
export async function addLineJobs(
  queue: Queue,
  parent: BatchParent,
  batch: BatchOfLine,
  indexes: readonly number[],
): Promise<void> {
  if (indexes.length === 0) return;
  await queue.addBulk(
    indexes.map((index) => {
      const data: LineJobData = { ...batch, index, step: "start", permitWaits: 0 };
      return {
        name: "line",
        data,
        opts: { ...lineJobOptions, jobId: batchJobIds.line(batch.batchId, index), parent },
      };
    }),
  );
}

/**
 * Adds the job of the line a lane was handed on to. A hand-over a rerun found (not `fresh`) may have
 * been followed by its job already: adding one that exists adds nothing, but one that failed for good
 * is not added again (it would join the batch job's dependencies without ever running, and hold the
 * batch up; the batch job answers its line).
 */
export async function addHandedOnJob(
  queue: Queue,
  parent: BatchParent,
  batch: BatchOfLine,
  { fresh, lines }: LaneLines,
): Promise<void> {
  const states = fresh
    ? []
    : await Promise.all(lines.map((index) => queue.getJobState(batchJobIds.line(batch.batchId, index))));
  await addLineJobs(
    queue,
    parent,
    batch,
    lines.filter((_, i) => states[i] !== "failed"),
  );
}
