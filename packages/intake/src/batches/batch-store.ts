import type { RedisClient } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { BatchInputError } from "./batch-input.ts";
import { batchKeys } from "./batch-keys.ts";
import { type BatchObject, type BatchStatus, batchObject } from "./batch-object.ts";
import { batchTransition, lineRecord, lineStart, ownerAdmit } from "./batch-scripts.ts";
import type { ResultKind } from "./output-lines.ts";
import { storedAnswer, type ResultLine } from "./output-lines.ts";

export interface NewBatch {
  id: string;
  owner: string;
  inputFileId: string;
  endpoint: string;
  metadata: Record<string, string> | null;
  /** Its `completion_window` as asked for, and its length (see `completionWindowSeconds`). */
  completionWindow: string;
  windowSeconds: number;
  /** Its request lines; 0 with `errors` for a batch that failed validation. */
  total: number;
  /** The input file's problems: the batch is created `failed` with them. */
  errors: BatchInputError[];
}

/**
 * Batches in Redis: each batch's record, answers and running lines under the batch's own hash tag,
 * living the retention from creation; an owner's batches indexed (and capped) by owner.
 */
export class BatchStore {
  readonly #redis: RedisClient;
  readonly #retentionSeconds: number;
  readonly #maxPerOwner: number;

  constructor(redis: RedisClient, options: { retentionSeconds: number; maxBatchesPerOwner: number }) {
    this.#redis = redis;
    this.#retentionSeconds = options.retentionSeconds;
    this.#maxPerOwner = options.maxBatchesPerOwner;
  }

  /** Records a new batch (`in_progress`, or `failed` with its errors); 400 beyond the owner's cap. */
  async create(batch: NewBatch): Promise<BatchObject> {
    const now = Date.now();
    const retention = this.#retentionSeconds;
    const admitted = await ownerAdmit.run(
      this.#redis,
      batchKeys.ownerBatches(batch.owner),
      now,
      retention * 1000,
      this.#maxPerOwner,
      batch.id,
      retention,
    );
    if (admitted !== 1)
      throw new FusionError(
        "bad_request",
        `this key already keeps ${this.#maxPerOwner} batches (BATCH_MAX_BATCHES_PER_KEY); they expire ${retention} s after creation`,
      );
    const created = Math.floor(now / 1000);
    const failed = batch.errors.length > 0;
    const fields: Record<string, string> = {
      id: batch.id,
      owner: batch.owner,
      endpoint: batch.endpoint,
      input_file_id: batch.inputFileId,
      completion_window: batch.completionWindow,
      created_at: String(created),
      expires_at: String(created + batch.windowSeconds),
      status: failed ? "failed" : "in_progress",
      [failed ? "failed_at" : "in_progress_at"]: String(created),
      total: String(batch.total),
      completed: "0",
      failed: "0",
      purge_at: String(now + retention * 1000),
      ...(batch.metadata ? { metadata: JSON.stringify(batch.metadata) } : {}),
      ...(failed ? { errors: JSON.stringify(batch.errors) } : {}),
    };
    const key = batchKeys.batch(batch.id);
    const results = await this.#redis.multi().hset(key, fields).expire(key, retention).exec();
    for (const [err] of results ?? []) if (err) throw err;
    return batchObject(fields);
  }

  /** A batch's record as stored; undefined when it expired. */
  async record(batchId: string): Promise<Record<string, string> | undefined> {
    const h = await this.#redis.hgetall(batchKeys.batch(batchId));
    return h.id ? h : undefined;
  }

  /** An owner's batch; undefined when it is not theirs or expired. */
  async get(owner: string, batchId: string): Promise<BatchObject | undefined> {
    const h = await this.record(batchId);
    return h && h.owner === owner ? batchObject(h) : undefined;
  }

  /** The ids of an owner's live batches, newest first. */
  async ids(owner: string): Promise<string[]> {
    const key = batchKeys.ownerBatches(owner);
    const oldest = Date.now() - this.#retentionSeconds * 1000;
    return this.#redis.zrevrangebyscore(key, "+inf", oldest);
  }

  /** The owner's batches that have not ended and read `fileId` as their input (their lines may still read it). */
  async readersOf(owner: string, fileId: string): Promise<string[]> {
    const ids = await this.ids(owner);
    const records = await Promise.all(
      ids.map((id) => this.#redis.hmget(batchKeys.batch(id), "input_file_id", "status")),
    );
    return ids.filter((_, i) => {
      const [input, status] = records[i] ?? [];
      return input === fileId && readingStatuses.has(status ?? "");
    });
  }

  /** Moves a batch to `to` when its status is one of `from`; the status after (undefined: gone). */
  async transition(batchId: string, to: BatchStatus, from: BatchStatus[]): Promise<string | undefined> {
    const now = Math.floor(Date.now() / 1000);
    const key = batchKeys.batch(batchId);
    const after = await batchTransition.run(this.#redis, key, to, `${to}_at`, now, ...from);
    return after ?? undefined;
  }

  /** Sets fields of a batch's record (its result files, say). */
  async set(batchId: string, fields: Record<string, string>): Promise<void> {
    await this.#redis.hset(batchKeys.batch(batchId), fields);
  }

  /** Whether a line may run now (see lua/line-start.lua). */
  startLine(batchId: string, index: number) {
    return lineStart.run(
      this.#redis,
      batchKeys.batch(batchId),
      batchKeys.answers(batchId),
      batchKeys.running(batchId),
      index,
      Date.now(),
    );
  }

  /** Records a line's answer once (a second answer to the same line is dropped); whether this one was recorded. */
  async answer(batchId: string, index: number, kind: ResultKind, line: ResultLine): Promise<boolean> {
    const recorded = await lineRecord.run(
      this.#redis,
      batchKeys.batch(batchId),
      batchKeys.answers(batchId),
      batchKeys.running(batchId),
      index,
      storedAnswer(kind, line),
      kind === "output" ? "completed" : "failed",
    );
    return recorded === 1;
  }

  /** The stored answers of some lines (undefined for a line not answered). */
  async answers(batchId: string, indexes: number[]): Promise<Array<string | undefined>> {
    if (indexes.length === 0) return [];
    const values = await this.#redis.hmget(batchKeys.answers(batchId), ...indexes.map(String));
    return values.map((v) => v ?? undefined);
  }

  /** The indexes of a batch's answered lines (without their answers). */
  async answeredLines(batchId: string): Promise<number[]> {
    return (await this.#redis.hkeys(batchKeys.answers(batchId))).map(Number);
  }

  /** How many of a batch's lines are answered. */
  async answeredCount(batchId: string): Promise<number> {
    return this.#redis.hlen(batchKeys.answers(batchId));
  }

  /** The lines of a batch that started and are not answered. */
  async running(batchId: string): Promise<number[]> {
    return (await this.#redis.smembers(batchKeys.running(batchId))).map(Number);
  }
}

/** The statuses of a batch that may still read its input file. */
const readingStatuses = new Set<string>(["validating", "in_progress", "finalizing", "cancelling"]);

export const batchNotFound = (batchId: string) => new FusionError("not_found", `no such batch: ${batchId}`);
