import { lineRequestId, resultFileIds } from "./batch-ids.ts";
import { splitJsonl } from "./batch-input.ts";
import type { BatchStatus } from "./batch-object.ts";
import { LINE_CHUNK } from "./batch-queue.ts";
import { type BatchStores, dropContentUnlessRead } from "./delete-file.ts";
import type { FileStore } from "./file-store.ts";
import { parseStoredAnswer, type UnrunReason, unrunLine } from "./output-lines.ts";

/** What a finalization needs of its batch. */
export interface FinalizedBatch {
  batchId: string;
  owner: string;
  fileId: string;
}

/**
 * Ends a batch: at its batch job's end (every line settled), or at its window's end (its expiry job,
 * lines still unanswered). Safe to run again after a crash at any point, and beside another
 * finalization of the same batch: lines with no answer are answered now (once, like any line):
 * `batch_cancelled` when the batch is cancelling, `batch_expired` past its window, `batch_failed`
 * otherwise (their job failed for good); the files are then built from the answers as stored (a line
 * answered meanwhile by its own job keeps that answer), written whole under fixed ids (rewritten, never
 * doubled), and the batch ends `cancelled`, `expired` (some line never ran in its window) or `completed`.
 * The bytes of an input file its owner deleted meanwhile are freed once no batch reads them.
 */
export async function finalizeBatch(stores: BatchStores, data: FinalizedBatch): Promise<BatchStatus> {
  const { batches, files } = stores;
  const { batchId, owner, fileId } = data;
  const status = await batches.transition(batchId, "finalizing", ["in_progress"]);
  if (status === undefined) return "failed";
  if (!["finalizing", "cancelling"].includes(status)) return status as BatchStatus;
  const record = (await batches.record(batchId)) ?? {};
  const total = Number(record.total ?? 0);
  const expired = Date.now() >= Number(record.expires_at ?? 0) * 1000;
  const reason: UnrunReason =
    status === "cancelling" ? "batch_cancelled" : expired ? "batch_expired" : "batch_failed";

  const output: string[] = [];
  const errors: string[] = [];
  let unrun = 0;
  let customIds: string[] | undefined;
  for (let from = 0; from < total; from += LINE_CHUNK) {
    const indexes = Array.from({ length: Math.min(LINE_CHUNK, total - from) }, (_, i) => from + i);
    let answers = await batches.answers(batchId, indexes);
    if (answers.includes(undefined)) {
      customIds ??= await inputCustomIds(files, fileId);
      for (const [i, stored] of answers.entries()) {
        if (stored !== undefined) continue;
        const index = from + i;
        await batches.answer(
          batchId,
          index,
          "error",
          unrunLine(lineRequestId(batchId, index), customIds[index] ?? "", reason),
        );
      }
      answers = await batches.answers(batchId, indexes);
    }
    for (const stored of answers) {
      if (stored === undefined) continue;
      const { kind, text } = parseStoredAnswer(stored);
      (kind === "output" ? output : errors).push(text);
      if (kind === "error" && unrunCode(text) === reason) unrun++;
    }
  }
  const ids = resultFileIds(batchId);
  const write = async (id: string, kind: string, lines: string[]) => {
    if (lines.length === 0) return "";
    const content = new TextEncoder().encode(`${lines.join("\n")}\n`);
    await files.write({ id, owner, filename: `${batchId}_${kind}.jsonl`, purpose: "batch_output", content });
    return id;
  };
  const outputFileId = await write(ids.output, "output", output);
  const errorFileId = await write(ids.error, "error", errors);
  await batches.set(batchId, { output_file_id: outputFileId, error_file_id: errorFileId });
  const end: BatchStatus =
    status === "cancelling" ? "cancelled" : reason === "batch_expired" && unrun > 0 ? "expired" : "completed";
  const after = await batches.transition(batchId, end, ["finalizing", "cancelling"]);
  await dropContentUnlessRead(stores, owner, fileId);
  return (after as BatchStatus | undefined) ?? end;
}

/** The `error.code` of an error line that never ran (undefined for a line that got a response). */
function unrunCode(text: string): string | undefined {
  try {
    const line = JSON.parse(text) as { response?: unknown; error?: { code?: unknown } | null };
    return line.response == null && typeof line.error?.code === "string" ? line.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** The custom ids of an input file's request lines, in order (for lines answered at finalization). */
async function inputCustomIds(files: FileStore, fileId: string): Promise<string[]> {
  const content = await files.bytes(fileId).catch(() => undefined);
  if (!content) return [];
  return splitJsonl(content).map(({ text }) => {
    try {
      return String((JSON.parse(text) as { custom_id?: unknown }).custom_id ?? "");
    } catch {
      return "";
    }
  });
}
