import { envBoolean, envInt } from "@fusion/runtime";

/** The Batch API's storage bounds, read by the gateway (which refuses beyond them) and the judge worker. */
export const batchStorageEnv = {
  /** Most bytes of one uploaded file (413 beyond). */
  BATCH_MAX_FILE_BYTES: envInt(20 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  /** Most request lines of one batch input file (400 beyond). */
  BATCH_MAX_LINES: envInt(10_000, 1, 1_000_000),
  /** Most uploaded files one API key keeps at once (400 beyond, until some expire). */
  BATCH_MAX_FILES_PER_KEY: envInt(100, 1, 100_000),
  /** Most batches one API key keeps at once (400 beyond, until some expire). */
  BATCH_MAX_BATCHES_PER_KEY: envInt(100, 1, 100_000),
  /** How long files, batches and their output and error files live from their creation. */
  BATCH_RETENTION_SECONDS: envInt(7 * 24 * 3600, 3600),
  /**
   * For tests only: `POST /batches` also takes a `completion_window` of `"<n>s"` (1 to 3600 seconds),
   * so that a test sees a batch expire. Off, only OpenAI's `"24h"` is accepted.
   */
  BATCH_TEST_COMPLETION_WINDOWS: envBoolean(false),
};

/** The judge worker's batch settings: the bounds, and how lines run. */
export const batchWorkerEnv = {
  ...batchStorageEnv,
  /** Batch lines one judge worker runs at once per queue shard (a fusion line waits without a slot). */
  BATCH_CONCURRENCY: envInt(32, 1, 10_000),
  /**
   * Lanes per batch: the most lines of one batch in flight at once. Only they have jobs; each answered
   * line hands its lane on to the next. The default is BATCH_MAX_IN_FLIGHT_PER_KEY's, so that one
   * batch alone never waits for a permit.
   */
  BATCH_LANES: envInt(16, 1, 10_000),
  /**
   * Background fusions (a batch's fusion lines) in flight per API key, across every worker (its
   * batches together); a lane beyond it waits, delayed 1 s doubling to 30 s, for one to end. Fails
   * closed: without Redis, no line starts.
   */
  BATCH_MAX_IN_FLIGHT_PER_KEY: envInt(16, 1, 10_000),
  /** The longest a fusion runs: the same value as the gateway's (its records live that long and more). */
  FUSION_TIMEOUT_MS: envInt(600_000, 1000),
};
