import { FusionError } from "@fusion/wire";
import type { RedisClient } from "@fusion/runtime";
import { batchKeys } from "./batch-keys.ts";
import { ownerAdmit } from "./batch-scripts.ts";

/** OpenAI's file object. */
export interface FileObject {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  expires_at: number;
  filename: string;
  purpose: string;
  status: "processed";
}

/** A file to store: uploaded (`batch`) or written by a batch (`batch_output`). */
export interface NewFile {
  id: string;
  owner: string;
  filename: string;
  purpose: "batch" | "batch_output";
  content: Uint8Array;
}

export interface FileStoreOptions {
  retentionSeconds: number;
  /** Most uploaded files per owner (a batch's own output files do not count). */
  maxFilesPerOwner: number;
}

/**
 * Batch files in Redis: each file's record and bytes under its own hash tag, living the retention
 * from their creation; an owner's uploads indexed (and capped) by owner. Another owner's file is not
 * found.
 */
export class FileStore {
  readonly #redis: RedisClient;
  readonly #options: FileStoreOptions;

  constructor(redis: RedisClient, options: FileStoreOptions) {
    this.#redis = redis;
    this.#options = options;
  }

  /** Stores an upload; 400 when its owner keeps as many files as allowed. */
  async upload(file: NewFile): Promise<FileObject> {
    const { retentionSeconds, maxFilesPerOwner } = this.#options;
    const now = Date.now();
    const admitted = await ownerAdmit.run(
      this.#redis,
      batchKeys.ownerFiles(file.owner),
      now,
      retentionSeconds * 1000,
      maxFilesPerOwner,
      file.id,
      retentionSeconds,
    );
    if (admitted !== 1)
      throw new FusionError(
        "bad_request",
        `this key already keeps ${maxFilesPerOwner} files (BATCH_MAX_FILES_PER_KEY); they expire ${retentionSeconds} s after upload`,
      );
    return this.write(file, now);
  }

  /** Writes a file (again: a batch's output files are rewritten whole when finalization runs twice). */
  async write(file: NewFile, now = Date.now()): Promise<FileObject> {
    const created = Math.floor(now / 1000);
    const object: FileObject = {
      id: file.id,
      object: "file",
      bytes: file.content.byteLength,
      created_at: created,
      expires_at: created + this.#options.retentionSeconds,
      filename: file.filename,
      purpose: file.purpose,
      status: "processed",
    };
    const ttl = this.#options.retentionSeconds;
    const meta = batchKeys.fileMeta(file.id);
    const content = batchKeys.fileContent(file.id);
    const results = await this.#redis
      .multi()
      .hset(meta, { ...stringFields(object), owner: file.owner })
      .expire(meta, ttl)
      .set(content, Buffer.from(file.content), "EX", ttl)
      .exec();
    for (const [err] of results ?? []) if (err) throw err;
    // Uploads are indexed when admitted; a batch's own files are listed from their own index.
    if (file.purpose === "batch_output") {
      const index = batchKeys.ownerOutputs(file.owner);
      const indexed = await this.#redis
        .multi()
        .zremrangebyscore(index, "-inf", `(${now - ttl * 1000}`)
        .zadd(index, now, file.id)
        .expire(index, ttl)
        .exec();
      for (const [err] of indexed ?? []) if (err) throw err;
    }
    return object;
  }

  /**
   * The ids of an owner's live files, newest first: uploads (`batch`) and their batches' output and
   * error files (`batch_output`), or only those of `purpose`.
   */
  async ids(owner: string, purpose?: string): Promise<string[]> {
    const oldest = Date.now() - this.#options.retentionSeconds * 1000;
    const indexes = [
      { purpose: "batch", key: batchKeys.ownerFiles(owner) },
      { purpose: "batch_output", key: batchKeys.ownerOutputs(owner) },
    ].filter((i) => purpose === undefined || i.purpose === purpose);
    const scored = await Promise.all(
      indexes.map(async ({ key }) => {
        const flat = await this.#redis.zrevrangebyscore(key, "+inf", oldest, "WITHSCORES");
        return Array.from({ length: flat.length / 2 }, (_, i) => ({
          id: flat[2 * i] ?? "",
          at: Number(flat[2 * i + 1]),
        }));
      }),
    );
    return scored
      .flat()
      .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
      .map((e) => e.id);
  }

  /**
   * Deletes an owner's file from their view: its record and its entry in their index (an upload's
   * place under BATCH_MAX_FILES_PER_KEY is free again). Its bytes are left to `dropContent`. False
   * when the file is not theirs or expired.
   */
  async remove(owner: string, fileId: string): Promise<boolean> {
    const meta = batchKeys.fileMeta(fileId);
    if ((await this.#redis.hget(meta, "owner")) !== owner) return false;
    await this.#redis.del(meta);
    await Promise.all([
      this.#redis.zrem(batchKeys.ownerFiles(owner), fileId),
      this.#redis.zrem(batchKeys.ownerOutputs(owner), fileId),
    ]);
    return true;
  }

  /** Whether a file's record is live (not deleted, not expired). */
  async exists(fileId: string): Promise<boolean> {
    return (await this.#redis.exists(batchKeys.fileMeta(fileId))) === 1;
  }

  /** Frees a file's bytes. */
  async dropContent(fileId: string): Promise<void> {
    await this.#redis.del(batchKeys.fileContent(fileId));
  }

  /**
   * A file's bytes for the batch that reads it, whoever asks and even once its owner deleted it (the
   * bytes of a deleted file are kept while a batch reads them); 404 once they are gone.
   */
  async bytes(fileId: string): Promise<Buffer> {
    const content = await this.#redis.getBuffer(batchKeys.fileContent(fileId));
    if (content === null) throw fileNotFound(fileId);
    return content;
  }

  /** The file object of an owner's file; undefined when it is not theirs or expired. */
  async get(owner: string, fileId: string): Promise<FileObject | undefined> {
    const h = await this.#redis.hgetall(batchKeys.fileMeta(fileId));
    if (h.owner !== owner || !h.id) return undefined;
    return {
      id: h.id,
      object: "file",
      bytes: Number(h.bytes),
      created_at: Number(h.created_at),
      expires_at: Number(h.expires_at),
      filename: h.filename ?? "",
      purpose: h.purpose ?? "batch",
      status: "processed",
    };
  }

  /** The bytes of an owner's file; 404 when it is not theirs or expired. */
  async content(owner: string, fileId: string): Promise<Buffer> {
    const [meta, content] = await Promise.all([
      this.#redis.hget(batchKeys.fileMeta(fileId), "owner"),
      this.#redis.getBuffer(batchKeys.fileContent(fileId)),
    ]);
    if (meta !== owner || content === null) throw fileNotFound(fileId);
    return content;
  }

  /** One line's bytes (inclusive span), for a line job; undefined when the file's bytes are gone. */
  async range(fileId: string, start: number, end: number): Promise<string | undefined> {
    const text = await this.#redis.getrange(batchKeys.fileContent(fileId), start, end);
    return text === "" ? undefined : text;
  }
}

export const fileNotFound = (fileId: string) => new FusionError("not_found", `no such file: ${fileId}`);

function stringFields(o: FileObject): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}
