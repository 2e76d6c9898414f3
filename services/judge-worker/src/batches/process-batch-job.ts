import {
  type BatchLanes,
  type BatchStore,
  batchJobIds,
  batchJobSchema,
  type BatchJobData,
  type FileStore,
  finalizeBatch,
  type LinePlaces,
  splitJsonl,
  startLanes,
} from "@fusion/intake";
import { parseJobData, type WorkerRuntime } from "@fusion/runtime";
import type { PresetCatalog } from "@fusion/wire";
import { type Job, type Queue, WaitingChildrenError } from "bullmq";
import { describeLine } from "./line-body.ts";
import { addLineJobs } from "./line-jobs.ts";

export interface BatchJobContext {
  runtime: WorkerRuntime;
  batches: BatchStore;
  files: FileStore;
  places: LinePlaces;
  lanes: BatchLanes;
  /** BATCH_LANES: the most lines of one batch in flight at once. */
  maxLanes: number;
  presets: PresetCatalog;
  /** The `batch-line` queue under a queue shard's prefix. */
  lineQueue(prefix: string): Queue;
}

/**
 * The `batch` queue's processor: a batch from its input file to its result files. First (`split`) it
 * records every line's place in the input file (`LinePlaces`) and starts the batch's lanes
 * (`startLanes`): the jobs of its first BATCH_LANES lines, as its own children in its queue shard (job
 * ids `<batch>-line-<index>`); each line job adds the next line's job as it hands its lane on. It waits
 * for them (no worker slot held). When every line job has settled, BullMQ runs it again: should lanes
 * have been lost (a line job that died without handing on), it starts them again and waits again;
 * otherwise it finalizes the batch (idempotent). A split run again starts nothing twice. A batch
 * cancelled before its split starts no lines.
 */
export function createBatchJobProcessor(context: BatchJobContext) {
  const { batches } = context;
  return async (job: Job<BatchJobData>, token?: string): Promise<string> => {
    const data = parseJobData(batchJobSchema, job.data, "batch");
    const { batchId, owner, fileId } = data;
    const record = await batches.record(batchId);
    if (!record) return "gone";
    const queue = context.lineQueue(job.prefix);
    const parent = { id: job.id ?? batchJobIds.batch(batchId), queue: job.queueQualifiedName };
    const batch = { batchId, owner, fileId };
    const start = () =>
      startLanes(context, batchId, context.maxLanes, (index) =>
        queue.getJobState(batchJobIds.line(batchId, index)),
      );
    if (data.step === "split" && record.status === "in_progress") {
      // Read even if its owner deleted it since: a deleted file's bytes are kept while a batch reads them.
      const content = await context.files.bytes(fileId);
      const places = splitJsonl(content).map(({ text, start, end }) => ({
        start,
        end,
        ...describeLine(text, context.presets),
      }));
      await context.places.write(batchId, places, Number(record.purge_at));
      await addLineJobs(queue, parent, batch, await start());
      context.runtime.logger.info({ batchId, lines: places.length }, "batch lanes started");
    }
    if (data.step === "split") await job.updateData({ ...data, step: "finalize" });
    for (;;) {
      if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
      // Every line job has settled: lanes lost on the way start again, if the batch still runs.
      const lines = await start();
      if (lines.length === 0) break;
      context.runtime.logger.warn(
        { batchId, lines },
        "batch lanes lost (a line job died before handing on): started again",
      );
      await addLineJobs(queue, parent, batch, lines);
    }
    return finalizeBatch(context, data);
  };
}
