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
});
