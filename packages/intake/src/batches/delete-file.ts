import type { BatchStore } from "./batch-store.ts";
import type { FileStore } from "./file-store.ts";

/** The stores of the Batch API. */
export interface BatchStores {
  batches: BatchStore;
  files: FileStore;
}

/**
 * `DELETE /files/{id}`: the file is gone for its owner at once (not listed, not readable, no new batch
 * over it). Its bytes go too, unless a batch of the owner that has not ended reads them: then they are
 * kept for that batch, which runs every line as if nothing happened, and freed when the last such batch
 * ends (`dropContentUnlessRead` at its finalization), within the file's retention at the latest.
 * False when the file is not the owner's (or expired).
 */
export async function deleteFile(stores: BatchStores, owner: string, fileId: string): Promise<boolean> {
  if (!(await stores.files.remove(owner, fileId))) return false;
  await dropContentUnlessRead(stores, owner, fileId);
  return true;
}

/**
 * Frees the bytes of a deleted file that no batch of its owner reads any more. A live file keeps them
 * (they expire with it). Run after the record is removed, and by a batch after its end: whichever of a
 * delete and a batch's end comes last sees the other, so the bytes are never left behind.
 */
export async function dropContentUnlessRead(
  stores: BatchStores,
  owner: string,
  fileId: string,
): Promise<void> {
  if (await stores.files.exists(fileId)) return;
  if ((await stores.batches.readersOf(owner, fileId)).length > 0) return;
  await stores.files.dropContent(fileId);
}
