import { createRedis, type RedisClient } from "@fusion/runtime";
import { type RedisFixture, startRedis } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackgroundPermits } from "./background-permits.ts";
import { newBatchId, newFileId } from "./batch-ids.ts";
import { BatchStore } from "./batch-store.ts";
import { FileStore } from "./file-store.ts";
import { failedLine, responseLine } from "./output-lines.ts";

let fixture: RedisFixture;
let redis: RedisClient;
beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "commands", "test-batch-store");
});
afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

const owner = () => `owner-${Math.random().toString(36).slice(2)}`;
const newBatch = (o: string, total = 2) => ({
  id: newBatchId(),
  owner: o,
  inputFileId: "file-x",
  endpoint: "/v1/chat/completions",
  metadata: { job: "nightly" },
  completionWindow: "24h",
  windowSeconds: 24 * 3600,
  total,
  errors: [],
});

describe("BatchStore", () => {
  it("records each line's first answer only and counts it", async () => {
    const store = new BatchStore(redis, { retentionSeconds: 3600, maxBatchesPerOwner: 10 });
    const batch = newBatch(owner());
    const created = await store.create(batch);
    expect(created).toMatchObject({
      status: "in_progress",
      request_counts: { total: 2, completed: 0, failed: 0 },
    });
    expect(created.metadata).toEqual({ job: "nightly" });
    expect(await store.startLine(batch.id, 0)).toBe("run");
    expect(await store.running(batch.id)).toEqual([0]);
    const ok = responseLine("r0", "a", 200, {});
    expect(await store.answer(batch.id, 0, ok.kind, ok.line)).toBe(true);
    const again = failedLine("r0", "a", 500, "second run");
    expect(await store.answer(batch.id, 0, again.kind, again.line)).toBe(false);
    expect(await store.startLine(batch.id, 0)).toBe("answered");
    expect(await store.running(batch.id)).toEqual([]);
    const [stored] = await store.answers(batch.id, [0]);
    expect(stored).toBe(`o${JSON.stringify(ok.line)}`);
    expect((await store.get(batch.owner, batch.id))?.request_counts).toEqual({
      total: 2,
      completed: 1,
      failed: 0,
    });
  });

  it("keeps lines from starting once cancelling, and moves only from the statuses it may leave", async () => {
    const store = new BatchStore(redis, { retentionSeconds: 3600, maxBatchesPerOwner: 10 });
    const batch = newBatch(owner());
    await store.create(batch);
    expect(await store.transition(batch.id, "cancelling", ["validating", "in_progress"])).toBe("cancelling");
    expect(await store.startLine(batch.id, 1)).toBe("cancelled");
    expect(await store.transition(batch.id, "finalizing", ["in_progress"])).toBe("cancelling");
    expect(await store.transition(batch.id, "cancelled", ["cancelling"])).toBe("cancelled");
    const object = await store.get(batch.owner, batch.id);
    expect(object?.cancelling_at).toEqual(expect.any(Number));
    expect(object?.cancelled_at).toEqual(expect.any(Number));
    expect(await store.transition("batch_none", "cancelling", ["in_progress"])).toBeUndefined();
    const ending = newBatch(owner());
    await store.create(ending);
    expect(await store.transition(ending.id, "finalizing", ["in_progress"])).toBe("finalizing");
    expect(await store.startLine(ending.id, 0)).toBe("ended");
  });

  it("finds the batches that have not ended and read a file", async () => {
    const store = new BatchStore(redis, { retentionSeconds: 3600, maxBatchesPerOwner: 10 });
    const o = owner();
    const reading = { ...newBatch(o), inputFileId: "file-read" };
    const ended = { ...newBatch(o), inputFileId: "file-read" };
    await store.create(reading);
    await store.create(ended);
    await store.create({ ...newBatch(o), inputFileId: "file-other" });
    await store.transition(ended.id, "cancelled", ["in_progress"]);
    expect(await store.readersOf(o, "file-read")).toEqual([reading.id]);
    expect(await store.readersOf(owner(), "file-read")).toEqual([]);
  });

  it("hides another owner's batch and caps each owner's batches", async () => {
    const store = new BatchStore(redis, { retentionSeconds: 3600, maxBatchesPerOwner: 2 });
    const o = owner();
    const first = newBatch(o);
    await store.create(first);
    await store.create(newBatch(o));
    await expect(store.create(newBatch(o))).rejects.toMatchObject({ status: 400 });
    expect(await store.get(owner(), first.id)).toBeUndefined();
    expect(await store.ids(o)).toHaveLength(2);
  });
});

describe("FileStore", () => {
  it("keeps a file's bytes for its owner only, reads a line's span, and caps uploads per owner", async () => {
    const files = new FileStore(redis, { retentionSeconds: 3600, maxFilesPerOwner: 1 });
    const o = owner();
    const content = new TextEncoder().encode('{"a":1}\n{"b":2}\n');
    const file = await files.upload({
      id: newFileId(),
      owner: o,
      filename: "in.jsonl",
      purpose: "batch",
      content,
    });
    expect(file).toMatchObject({
      object: "file",
      bytes: content.byteLength,
      purpose: "batch",
      status: "processed",
    });
    expect(file.expires_at - file.created_at).toBe(3600);
    expect(await files.get(o, file.id)).toEqual(file);
    expect(await files.get(owner(), file.id)).toBeUndefined();
    await expect(files.content(owner(), file.id)).rejects.toMatchObject({ status: 404 });
    expect(new Uint8Array(await files.content(o, file.id))).toEqual(content);
    expect(await files.range(file.id, 8, 14)).toBe('{"b":2}');
    await expect(
      files.upload({ id: newFileId(), owner: o, filename: "2.jsonl", purpose: "batch", content }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it("lists an owner's uploads and output files newest first, by purpose, and removes one for its owner only", async () => {
    const files = new FileStore(redis, { retentionSeconds: 3600, maxFilesPerOwner: 1 });
    const o = owner();
    const content = new TextEncoder().encode("{}\n");
    const upload = await files.upload({
      id: newFileId(),
      owner: o,
      filename: "in.jsonl",
      purpose: "batch",
      content,
    });
    await new Promise((r) => setTimeout(r, 2));
    const output = await files.write({
      id: newFileId(),
      owner: o,
      filename: "out.jsonl",
      purpose: "batch_output",
      content,
    });
    expect(await files.ids(o)).toEqual([output.id, upload.id]);
    expect(await files.ids(o, "batch")).toEqual([upload.id]);
    expect(await files.ids(o, "batch_output")).toEqual([output.id]);
    expect(await files.ids(o, "fine-tune")).toEqual([]);
    expect(await files.remove(owner(), upload.id)).toBe(false);
    expect(await files.remove(o, upload.id)).toBe(true);
    expect(await files.ids(o)).toEqual([output.id]);
    expect(await files.get(o, upload.id)).toBeUndefined();
    await expect(files.content(o, upload.id)).rejects.toMatchObject({ status: 404 });
    // Its bytes stay until dropped (a batch may read them); its place under the cap is free at once.
    expect(new Uint8Array(await files.bytes(upload.id))).toEqual(content);
    await files.dropContent(upload.id);
    await expect(files.bytes(upload.id)).rejects.toMatchObject({ status: 404 });
    await files.upload({ id: newFileId(), owner: o, filename: "2.jsonl", purpose: "batch", content });
  });
});

describe("BackgroundPermits", () => {
  it("holds at most the cap per owner, finds a fusion's own permit again, and frees on release", async () => {
    const permits = new BackgroundPermits(redis, { max: 2, holdMs: 60_000 });
    const o = owner();
    expect(await permits.acquire(o, "f1")).toBe(true);
    expect(await permits.acquire(o, "f2")).toBe(true);
    expect(await permits.acquire(o, "f3")).toBe(false);
    expect(await permits.acquire(o, "f1")).toBe(true);
    expect(await permits.acquire(owner(), "f3")).toBe(true);
    await permits.release(o, "f1");
    expect(await permits.acquire(o, "f3")).toBe(true);
  });

  it("drops a hold whose time is over", async () => {
    const permits = new BackgroundPermits(redis, { max: 1, holdMs: 1 });
    const o = owner();
    expect(await permits.acquire(o, "f1")).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(await permits.acquire(o, "f2")).toBe(true);
  });
});
