import { createHash, randomBytes } from "node:crypto";
import { type QueueShard, shardOfFusion } from "@fusion/runtime";

const random = () => `${Date.now().toString(36)}${randomBytes(12).toString("hex")}`;

/** An uploaded file's id (OpenAI's `file-…`). */
export const newFileId = () => `file-${random()}`;

/** A batch's id (OpenAI's `batch_…`): time first, so ids sort roughly by creation. */
export const newBatchId = () => `batch_${random()}`;

const suffixOf = (batchId: string) => batchId.replace(/^batch_/, "");

/** The ids of a batch's output and error files: fixed by the batch, so a finalization run twice writes the same files. */
export const resultFileIds = (batchId: string) => ({
  output: `file-${suffixOf(batchId)}-output`,
  error: `file-${suffixOf(batchId)}-errors`,
});

/** A line's request id (`batch_req_…`), fixed by the batch and line: the same however often the line runs. */
export function lineRequestId(batchId: string, index: number): string {
  return `batch_req_${createHash("sha256").update(`${batchId}:${index}`).digest("hex").slice(0, 32)}`;
}

/** The queue shard of a batch: its batch job, its line jobs and their fusions all live there. */
export function shardOfBatch<S extends QueueShard>(shards: readonly S[], batchId: string): S {
  return shardOfFusion(shards, batchId);
}

/**
 * The fusion of a batch's line: its id derived from the batch id and line index (a line run again
 * finds the same fusion), and chosen in the batch's queue shard (the fusion's turn job is the line
 * job's child, and BullMQ keeps a parent and its children in one slot): the first of `…-<index>`,
 * `…-<index>-1`, … whose shard it is.
 */
export function lineFusionId(shards: readonly QueueShard[], batchId: string, index: number): string {
  const shard = shardOfBatch(shards, batchId);
  const base = `gen-fusion-${suffixOf(batchId)}-${index}`;
  for (let k = 0; ; k++) {
    const id = k === 0 ? base : `${base}-${k}`;
    if (shardOfFusion(shards, id).index === shard.index) return id;
  }
}
