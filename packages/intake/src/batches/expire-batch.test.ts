import { createRedis, keys, queueShards, type RedisClient } from "@fusion/runtime";
import { type RedisFixture, startRedis } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineFusionId, newBatchId, newFileId } from "./batch-ids.ts";
import { batchKeys } from "./batch-keys.ts";
import { BatchStore } from "./batch-store.ts";
import { deleteFile } from "./delete-file.ts";
import { expireBatch } from "./expire-batch.ts";
import { FileStore } from "./file-store.ts";
import { finalizeBatch } from "./finalize-batch.ts";
import { responseLine } from "./output-lines.ts";

let fixture: RedisFixture;
let redis: RedisClient;
let context: Parameters<typeof expireBatch>[0];
const shards = queueShards("{fusion}", 1);
beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "commands", "test-expire-batch");
  const storage = { retentionSeconds: 3600 };
  context = {
    redis,
    shards,
    streamTtlSeconds: 60,
    batches: new BatchStore(redis, { ...storage, maxBatchesPerOwner: 100 }),
    files: new FileStore(redis, { ...storage, maxFilesPerOwner: 100 }),
  };
});
afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

const owner = () => `owner-${Math.random().toString(36).slice(2)}`;

/** A batch of lines `a`, `b`, `c` over an uploaded file, whose window is `windowSeconds`. */
async function batchOver(windowSeconds: number) {
  const o = owner();
  const text = ["a", "b", "c"].map((id) => JSON.stringify({ custom_id: id })).join("\n");
  const file = await context.files.upload({
    id: newFileId(),
    owner: o,
    filename: "in.jsonl",
    purpose: "batch",
    content: new TextEncoder().encode(text),
  });
  const batch = await context.batches.create({
    id: newBatchId(),
    owner: o,
    inputFileId: file.id,
    endpoint: "/v1/chat/completions",
    metadata: null,
    completionWindow: `${windowSeconds}s`,
    windowSeconds,
    total: 3,
    errors: [],
  });
  return { data: { batchId: batch.id, owner: o, fileId: file.id }, batch };
}

async function resultLines(o: string, fileId: string | null | undefined) {
  if (!fileId) return [];
  const text = (await context.files.content(o, fileId)).toString();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { custom_id: string; response: unknown; error: { code: string } | null });
}

describe("expireBatch", () => {
  it("waits for a batch whose window is not over", async () => {
    const { data, batch } = await batchOver(3600);
    expect(await expireBatch(context, data)).toEqual({ dueAt: batch.expires_at * 1000 });
    expect((await context.batches.get(data.owner, data.batchId))?.status).toBe("in_progress");
  });

  it("ends a batch past its window: answers kept, the rest batch_expired, running fusions cancelled, once", async () => {
    const { data } = await batchOver(0);
    const ok = responseLine("r0", "a", 200, { object: "chat.completion" });
    await context.batches.answer(data.batchId, 0, ok.kind, ok.line);
    // Line 1 started (its fusion runs); line 2 was never picked up.
    await redis.sadd(batchKeys.running(data.batchId), "1");

    expect(await expireBatch(context, data)).toEqual({ status: "expired" });
    const batch = await context.batches.get(data.owner, data.batchId);
    expect(batch).toMatchObject({
      status: "expired",
      request_counts: { total: 3, completed: 1, failed: 2 },
    });
    expect(batch?.expired_at).toEqual(expect.any(Number));
    expect((await resultLines(data.owner, batch?.output_file_id)).map((l) => l.custom_id)).toEqual(["a"]);
    const errors = await resultLines(data.owner, batch?.error_file_id);
    expect(errors.map((l) => [l.custom_id, l.response, l.error?.code])).toEqual([
      ["b", null, "batch_expired"],
      ["c", null, "batch_expired"],
    ]);
    expect(await redis.exists(keys.cancelled(lineFusionId(shards, data.batchId, 1)))).toBe(1);
    expect(await redis.exists(keys.cancelled(lineFusionId(shards, data.batchId, 2)))).toBe(0);

    // The running line's own answer comes late: dropped. Running again, or the batch job's own
    // finalization, changes nothing.
    const late = responseLine("r1", "b", 200, {});
    expect(await context.batches.answer(data.batchId, 1, late.kind, late.line)).toBe(false);
    expect(await context.batches.startLine(data.batchId, 2)).toBe("answered");
    expect(await expireBatch(context, data)).toEqual({ status: "expired" });
    expect(await finalizeBatch(context, data)).toBe("expired");
    expect((await context.batches.get(data.owner, data.batchId))?.request_counts).toEqual({
      total: 3,
      completed: 1,
      failed: 2,
    });
  });

  it("agrees with a finalization and a line's answer racing it: each line once in the files", async () => {
    const { data } = await batchOver(0);
    const ok = responseLine("r2", "c", 200, {});
    const [expired, finalized] = await Promise.all([
      expireBatch(context, data),
      finalizeBatch(context, data),
      context.batches.answer(data.batchId, 2, ok.kind, ok.line),
    ]);
    const batch = await context.batches.get(data.owner, data.batchId);
    expect(expired).toEqual({ status: batch?.status });
    expect(finalized).toBe(batch?.status);
    const lines = [
      ...(await resultLines(data.owner, batch?.output_file_id)),
      ...(await resultLines(data.owner, batch?.error_file_id)),
    ];
    expect(lines.map((l) => l.custom_id).sort()).toEqual(["a", "b", "c"]);
    const { completed = 0, failed = 0 } = batch?.request_counts ?? {};
    expect(completed + failed).toBe(3);
  });

  it("keeps a deleted input file's bytes while its batch reads them, and frees them when it ends", async () => {
    const { data } = await batchOver(0);
    expect(await deleteFile(context, owner(), data.fileId)).toBe(false);
    expect(await deleteFile(context, data.owner, data.fileId)).toBe(true);
    expect(await context.files.get(data.owner, data.fileId)).toBeUndefined();
    expect(await context.files.range(data.fileId, 0, 1)).toBe('{"');

    expect(await expireBatch(context, data)).toEqual({ status: "expired" });
    const errors = await resultLines(
      data.owner,
      (await context.batches.get(data.owner, data.batchId))?.error_file_id,
    );
    expect(errors.map((l) => l.custom_id)).toEqual(["a", "b", "c"]);
    expect(await context.files.range(data.fileId, 0, 1)).toBeUndefined();
    expect(await deleteFile(context, data.owner, data.fileId)).toBe(false);

    // A file no batch reads loses its bytes at once.
    const unread = await batchOver(0);
    await finalizeBatch(context, unread.data);
    expect(await deleteFile(context, unread.data.owner, unread.data.fileId)).toBe(true);
    expect(await context.files.range(unread.data.fileId, 0, 1)).toBeUndefined();
  });
});
