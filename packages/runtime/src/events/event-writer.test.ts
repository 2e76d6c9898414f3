import { type RedisFixture, startRedis } from "@fusion/testing";
import type { PendingEvent } from "@fusion/wire";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../redis/keys.ts";
import { createRedis } from "../redis/redis.ts";
import { EventWriter } from "./event-writer.ts";

let fixture: RedisFixture;
let redis: Redis;
let writer: EventWriter;
let seq = 0;

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "worker", "test-event-writer");
  writer = new EventWriter(redis, 120);
});

afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

const newFusion = async (meta = true) => {
  const id = `writer-test-${process.pid}-${++seq}`;
  if (meta) await redis.hset(keys.meta(id), { owner: "o", created: "1" });
  return id;
};
const chunk = (c: string): PendingEvent => ({ type: "chunk", data: { c } });
/** Script calls Redis has run so far (every connection's). */
const scriptCalls = async () =>
  Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info("commandstats"))?.[1] ?? 0);
const types = async (id: string) =>
  (await redis.xrange(keys.events(id), "-", "+")).map(([, fields]) => fields[1]);

describe("EventWriter", () => {
  it("appends nothing after the stream's terminal entry", async () => {
    const id = await newFusion();
    await writer.append(id, chunk("a"));
    const end = await writer.append(id, {
      type: "error",
      data: { status: 499, message: "x", cancelled: true },
    });
    // A late writer: its chunk, progress and final are all dropped; the terminal entry's id comes back.
    expect(await writer.append(id, chunk("late"), { type: "progress", data: {} })).toBe(end);
    expect(await writer.append(id, { type: "final", data: { completion: {} } })).toBe(end);
    expect(await types(id)).toEqual(["chunk", "error"]);
  });

  it("records a completed fusion's status and cost in its meta, with the final entry", async () => {
    const id = await newFusion();
    await writer.append(id, chunk("a"));
    expect(await redis.hmget(keys.meta(id), "status", "cost")).toEqual([null, null]);
    await writer.append(id, chunk("b"), {
      type: "final",
      data: { completion: { usage: { total_tokens: 3, cost: 0.0123 } } },
    });
    expect(await redis.hmget(keys.meta(id), "status", "cost")).toEqual(["completed", "0.0123"]);
  });

  it.each([
    ["failed", { status: 502, message: "the model could not answer" }],
    ["cancelled", { status: 499, message: "the fusion was cancelled", cancelled: true }],
  ])("records a %s fusion from its error entry", async (status, data) => {
    const id = await newFusion();
    await writer.append(id, { type: "error", data });
    expect(await redis.hmget(keys.meta(id), "status", "cost")).toEqual([status, null]);
  });

  it("leaves the cost out when the upstream reported none, and reads a serialised final too", async () => {
    const id = await newFusion();
    await writer.append(id, { type: "final", data: JSON.stringify({ completion: { usage: {} } }) });
    expect(await redis.hmget(keys.meta(id), "status", "cost")).toEqual(["completed", null]);
  });

  it("creates no meta for a fusion that has none", async () => {
    const id = await newFusion(false);
    await writer.append(id, { type: "final", data: { completion: { usage: { cost: 1 } } } });
    expect(await redis.exists(keys.meta(id))).toBe(0);
    expect(await types(id)).toEqual(["final"]);
  });

  it("puts what is appended while an append is in flight into one next call, in order", async () => {
    const id = await newFusion();
    const ids: string[] = [];
    const before = await scriptCalls();
    await Promise.all(["a", "b", "c", "d"].map((c) => writer.append(id, chunk(c)).then((i) => ids.push(i))));
    const scripts = (await scriptCalls()) - before;
    // The first goes at once; the three given meanwhile share the next call.
    expect(scripts).toBe(2);
    const entries = await redis.xrange(keys.events(id), "-", "+");
    expect(entries.map(([, f]) => JSON.parse(f[3] ?? "")).map((d: { c: string }) => d.c)).toEqual([
      "a",
      "b",
      "c",
      "d",
    ]);
    // Each caller learns the stream's last id after the call that carried its events.
    expect(ids[0]).toBe(entries[0]?.[0]);
    expect(ids.slice(1)).toEqual([entries[3]?.[0], entries[3]?.[0], entries[3]?.[0]]);
  });

  it("keeps nothing given after a terminal event in the same call, and records its outcome", async () => {
    const id = await newFusion();
    const first = writer.append(id, chunk("a"));
    const end = writer.append(id, { type: "error", data: { status: 502, message: "x" } });
    const late = writer.append(id, chunk("late"), { type: "final", data: { completion: {} } });
    await Promise.all([first, end, late]);
    expect(await types(id)).toEqual(["chunk", "error"]);
    expect(await redis.hget(keys.meta(id), "status")).toBe("failed");
    expect(await late).toBe(await end);
  });

  describe("appendSoon: status updates that wait a moment for company", () => {
    const progress = (n: number): PendingEvent => ({ type: "progress", data: { n } });

    it("puts the updates given within the linger into one call, in order", async () => {
      const id = await newFusion();
      const before = await scriptCalls();
      const ids = await Promise.all([writer.appendSoon(id, progress(1)), writer.appendSoon(id, progress(2))]);
      expect((await scriptCalls()) - before).toBe(1);
      expect(ids[0]).toBe(ids[1]);
      const entries = await redis.xrange(keys.events(id), "-", "+");
      expect(entries.map(([, f]) => JSON.parse(f[3] ?? "").n)).toEqual([1, 2]);
    });

    it("sends what lingers at once with any other append, that append after it", async () => {
      const id = await newFusion();
      const slow = new EventWriter(redis, 120, 60_000);
      const before = await scriptCalls();
      const [updateId, chunkId] = await Promise.all([
        slow.appendSoon(id, progress(1)),
        slow.append(id, chunk("a")),
      ]);
      expect(updateId).toBe(chunkId);
      expect((await scriptCalls()) - before).toBe(1);
      expect(await types(id)).toEqual(["progress", "chunk"]);
    });

    it("sends what lingers when the stage ends (sendNow)", async () => {
      const id = await newFusion();
      const slow = new EventWriter(redis, 120, 60_000);
      const sent = slow.appendSoon(id, progress(1));
      slow.sendNow(id);
      await sent;
      expect(await types(id)).toEqual(["progress"]);
    });
  });

  describe("a turn step's output: recorded with it, in the same script call", () => {
    it("records the step when its output is appended, with the stream's TTL, and never for a plain append", async () => {
      const id = await newFusion();
      await writer.append(id, { type: "progress", data: {} });
      expect(await redis.exists(keys.emitted(id))).toBe(0);
      const before = await scriptCalls();
      await writer.appendStepOutput(id, "await-fusion", chunk("a"));
      expect((await scriptCalls()) - before).toBe(1);
      expect(await redis.hgetall(keys.emitted(id))).toEqual({ "await-fusion": "1" });
      const ttl = await redis.pttl(keys.emitted(id));
      expect(ttl).toBeGreaterThan(110_000);
      expect(ttl).toBeLessThanOrEqual(120_000);
      expect(await types(id)).toEqual(["progress", "chunk"]);
    });

    it("records nothing when the output did not reach the stream (it had ended)", async () => {
      const id = await newFusion();
      await writer.append(id, { type: "error", data: { status: 499, message: "x", cancelled: true } });
      await writer.appendStepOutput(id, "await-fusion", chunk("late"));
      expect(await redis.exists(keys.emitted(id))).toBe(0);
      expect(await types(id)).toEqual(["error"]);
    });

    it("carries the record with output that waited for an append in flight", async () => {
      const id = await newFusion();
      const first = writer.append(id, { type: "progress", data: {} });
      const output = writer.appendStepOutput(id, "decide", chunk("a"), chunk("b"));
      const [firstId, outputId] = await Promise.all([first, output]);
      expect(outputId).not.toBe(firstId);
      expect(await redis.hgetall(keys.emitted(id))).toEqual({ decide: "1" });
      expect(await types(id)).toEqual(["progress", "chunk", "chunk"]);
    });
  });

  it("appends an event as it was when given, not as its caller changed it later", async () => {
    const id = await newFusion();
    const first = writer.append(id, chunk("a"));
    const data = { c: "b" };
    const second = writer.append(id, { type: "chunk", data });
    data.c = "changed";
    await Promise.all([first, second]);
    const entries = await redis.xrange(keys.events(id), "-", "+");
    expect(entries.map(([, f]) => JSON.parse(f[3] ?? "").c)).toEqual(["a", "b"]);
  });

  describe("the stream's TTL (120 s here)", () => {
    const events = (id: string) => keys.events(id);
    /** An entry written directly at `ms`: the writer's next entry gets that millisecond (the ids only grow). */
    const entryAt = (id: string, ms: number) => redis.xadd(events(id), `${ms}-0`, "t", "progress", "d", "{}");

    it("is set by the append that creates the stream", async () => {
      const id = await newFusion();
      await writer.append(id, chunk("a"));
      const ttl = await redis.pttl(events(id));
      expect(ttl).toBeGreaterThan(110_000);
      expect(ttl).toBeLessThanOrEqual(120_000);
    });

    it("is not renewed by an append in the same 60 s window as the entry before it, and is at the end", async () => {
      const id = await newFusion();
      await writer.append(id, chunk("a"));
      await entryAt(id, Date.now() + 5_000);
      await redis.pexpire(events(id), 50_000);
      await writer.append(id, chunk("b"), chunk("c"));
      expect(await redis.pttl(events(id))).toBeLessThanOrEqual(50_000);
      // The terminal entry: the stream is kept its full TTL after the fusion's end.
      await writer.append(id, { type: "final", data: { completion: {} } });
      expect(await redis.pttl(events(id))).toBeGreaterThan(110_000);
      expect(await types(id)).toEqual(["chunk", "progress", "chunk", "chunk", "final"]);
    });

    it("is renewed by an append in a later window: a running stream keeps at least half of it", async () => {
      const id = await newFusion();
      await entryAt(id, Date.now() - 61_000);
      await redis.pexpire(events(id), 50_000);
      await writer.append(id, chunk("a"));
      expect(await redis.pttl(events(id))).toBeGreaterThan(110_000);
    });

    it("is set when the append that creates the stream also ends it", async () => {
      const id = await newFusion();
      await writer.append(id, { type: "error", data: { status: 502, message: "x" } });
      expect(await redis.pttl(events(id))).toBeGreaterThan(110_000);
    });
  });

  it("rejects every caller of a failed call, and serves the fusion again afterwards", async () => {
    const id = await newFusion();
    await redis.set(keys.events(id), "not a stream");
    const results = await Promise.allSettled([writer.append(id, chunk("a")), writer.append(id, chunk("b"))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await redis.del(keys.events(id));
    await writer.append(id, chunk("c"));
    expect(await types(id)).toEqual(["chunk"]);
  });
});
