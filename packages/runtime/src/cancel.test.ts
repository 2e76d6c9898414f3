import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CANCELLED_STATUS, CancelListener, cancelAndEndFusion, isCancelled } from "./cancel.ts";
import { EventWriter, parseEntry } from "./events/event-writer.ts";
import { keys } from "./redis/keys.ts";
import { createRedis } from "./redis/redis.ts";

let fixture: RedisFixture;
let redis: Redis;
let subscriber: Redis;
let listener: CancelListener;
let writer: EventWriter;
let seq = 0;

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "worker", "test-cancel");
  subscriber = createRedis(fixture.url, "subscriber", "test-cancel-sub");
  listener = new CancelListener(subscriber);
  await listener.start();
  writer = new EventWriter(redis, 120);
});

afterAll(async () => {
  listener?.close();
  redis?.disconnect();
  await fixture?.close();
});

const stream = { created: 1_795_258_260, model: "vendor/writer", streamTtlSeconds: 60 };

async function newFusion(): Promise<string> {
  const id = `cancel-test-${process.pid}-${++seq}`;
  await redis.hset(keys.meta(id), { owner: "o", created: "1" });
  return id;
}

async function entries(id: string) {
  const raw = await redis.xrange(keys.events(id), "-", "+");
  return raw.map(([entryId, fields]) => parseEntry(entryId, fields));
}

describe("cancelAndEndFusion", () => {
  it("aborts the fusion's running jobs and ends its stream with an error chunk and a cancelled error", async () => {
    const id = await newFusion();
    await writer.append(id, { type: "progress", data: { status: "started" } });
    const job = listener.register(id);
    expect(await cancelAndEndFusion(redis, id, stream)).toBe(true);

    await expect.poll(() => job.signal.aborted).toBe(true);
    job.release();
    expect(await isCancelled(redis, id)).toBe(true);
    const [, chunk, end] = await entries(id);
    expect(chunk?.type).toBe("chunk");
    expect(JSON.parse(chunk?.raw ?? "")).toEqual({
      id,
      object: "chat.completion.chunk",
      created: stream.created,
      model: stream.model,
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      error: { code: "cancelled", status: CANCELLED_STATUS, message: "the fusion was cancelled" },
    });
    expect(end?.type).toBe("error");
    expect(JSON.parse(end?.raw ?? "")).toMatchObject({ status: 499, cancelled: true });
    expect(await redis.hget(keys.meta(id), "status")).toBe("cancelled");
    expect(await redis.ttl(keys.events(id))).toBeGreaterThan(50);
    // A writer that had not seen the cancel yet appends nothing after the end.
    await writer.append(id, { type: "final", data: { completion: {} } });
    expect((await entries(id)).map((e) => e?.type)).toEqual(["progress", "chunk", "error"]);
  });

  it("cancels a queued fusion, whose stream is still empty", async () => {
    const id = await newFusion();
    expect(await cancelAndEndFusion(redis, id, stream)).toBe(true);
    expect((await entries(id)).map((e) => e?.type)).toEqual(["chunk", "error"]);
  });

  it("changes nothing of a fusion that already ended", async () => {
    const id = await newFusion();
    await writer.append(id, { type: "final", data: { completion: { usage: { cost: 0.5 } } } });
    const job = listener.register(id);
    expect(await cancelAndEndFusion(redis, id, stream)).toBe(false);
    expect((await entries(id)).map((e) => e?.type)).toEqual(["final"]);
    expect(await isCancelled(redis, id)).toBe(false);
    expect(await redis.hmget(keys.meta(id), "status", "cost")).toEqual(["completed", "0.5"]);
    // Give a stray message time to arrive: none does.
    await new Promise((r) => setTimeout(r, 50));
    expect(job.signal.aborted).toBe(false);
    job.release();
  });

  it("changes nothing of a fusion that ended long ago: its outcome is in its meta, its events expired", async () => {
    const id = await newFusion();
    await redis.hset(keys.meta(id), { status: "failed" });
    expect(await cancelAndEndFusion(redis, id, stream)).toBe(false);
    expect(await redis.exists(keys.events(id))).toBe(0);
    expect(await redis.hget(keys.meta(id), "status")).toBe("failed");
    expect(await isCancelled(redis, id)).toBe(false);
  });

  it("twice is once", async () => {
    const id = await newFusion();
    expect(await cancelAndEndFusion(redis, id, stream)).toBe(true);
    expect(await cancelAndEndFusion(redis, id, stream)).toBe(false);
    expect((await entries(id)).map((e) => e?.type)).toEqual(["chunk", "error"]);
  });
});
