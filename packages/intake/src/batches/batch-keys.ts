/**
 * The Batch API's Redis keys. A file's keys share its id as hash tag, and a batch's keys share the
 * batch id, so each file and each batch is one Redis Cluster slot; an owner's indexes are tagged by
 * the owner, so owners spread over the slots.
 */
export const batchKeys = {
  /** A file's record (a hash: owner, filename, purpose, bytes, created_at, expires_at). */
  fileMeta: (fileId: string) => `batch:file:{${fileId}}:meta`,
  /** A file's bytes (a string: lines are read back with GETRANGE). */
  fileContent: (fileId: string) => `batch:file:{${fileId}}:content`,
  /** A batch's record (a hash: the batch object's fields, its counts and timestamps). */
  batch: (batchId: string) => `batch:{${batchId}}:meta`,
  /** A batch's answered lines (a hash: line index → `o` or `e` and the output or error line). */
  answers: (batchId: string) => `batch:{${batchId}}:answers`,
  /** The lines of a batch that started and are not answered (a set of line indexes). */
  running: (batchId: string) => `batch:{${batchId}}:running`,
  /** Where each line of a batch is in its input file, and what it is (a hash: line index → its place). */
  places: (batchId: string) => `batch:{${batchId}}:places`,
  /**
   * A batch's lanes (a hash): `cursor`, the next line no lane has taken, and each line index → the
   * line its lane went on to (-1: none).
   */
  lanes: (batchId: string) => `batch:{${batchId}}:lanes`,
  /** An owner's uploaded files (a sorted set of ids scored by creation, ms). */
  ownerFiles: (owner: string) => `batch:owner:{${owner}}:files`,
  /** The output and error files of an owner's batches (a sorted set of ids scored by when written, ms). */
  ownerOutputs: (owner: string) => `batch:owner:{${owner}}:outputs`,
  /** An owner's batches (a sorted set of ids scored by creation, ms). */
  ownerBatches: (owner: string) => `batch:owner:{${owner}}:batches`,
  /** An owner's background fusions in flight (a sorted set of fusion ids scored by when their hold ends). */
  backgroundFusions: (owner: string) => `batch:owner:{${owner}}:background`,
};
