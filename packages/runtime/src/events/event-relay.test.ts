import { type RedisFixture, startRedis } from "@fusion/testing";
import type { PendingEvent, StoredEvent } from "@fusion/wire";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../redis/keys.ts";
import { createRedis } from "../redis/redis.ts";
import { EventRelay } from "./event-relay.ts";
import { compareIds, EventWriter, parseLiveMessage } from "./event-writer.ts";

const TTL_SECONDS = 120;

let fixture: RedisFixture;
let redis: Redis;
let subscriber: Redis;
let command: Redis;
let relay: EventRelay;
let writer: EventWriter;
let fusionSeq = 0;

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "producer", "test-writer");
  subscriber = createRedis(fixture.url, "subscriber", "test-subscriber");
  command = createRedis(fixture.url, "producer", "test-command");
  relay = new EventRelay(subscriber, command);
  writer = new EventWriter(redis, TTL_SECONDS);
  // Producer connections do not queue commands while connecting.
  await Promise.all([redis, subscriber, command].map(ready));
});

afterAll(async () => {
  for (const r of [redis, subscriber, command]) r?.disconnect();
  await fixture?.close();
});

function ready(connection: Redis): Promise<void> {
  if (connection.status === "ready") return Promise.resolve();
  return new Promise((resolve) => connection.once("ready", () => resolve()));
}

const newFusion = () => `relay-test-${process.pid}-${++fusionSeq}`;
const delta = (c: string): PendingEvent => ({ type: "chunk", data: { c } });
const final: PendingEvent = { type: "final", data: { completion: { id: "done" } } };

/** The text of a chunk event, or the event type otherwise. */
function label(stored: StoredEvent): string {
  return stored.type === "chunk" ? ((JSON.parse(stored.raw) as { c?: string }).c ?? "") : stored.type;
}

/** A stored event as the pending event it was written from. */
const asPending = (stored: StoredEvent): PendingEvent => ({
  type: stored.type,
  data: JSON.parse(stored.raw),
});

async function collect(iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const stored of iterable) out.push(stored);
  return out;
}

async function take(iterator: AsyncIterator<StoredEvent>, n: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < n; i++) {
    const next = await iterator.next();
    if (next.done) throw new Error(`the reader ended after ${i} of ${n} events`);
    out.push(next.value);
  }
  return out;
}

function expectStrictlyIncreasing(events: StoredEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    expect(compareIds(events[i - 1]?.id ?? "0-0", events[i]?.id ?? "0-0")).toBe(-1);
  }
}

async function subscriberCount(fusionId: string): Promise<number> {
  const reply = (await command.pubsub("NUMSUB", keys.eventsChannel(fusionId))) as [string, number];
  return Number(reply[1]);
}

describe("EventRelay", () => {
  it("replays earlier events, then follows live ones until final", async () => {
    const id = newFusion();
    for (const c of ["a", "b", "c"]) await writer.append(id, delta(c));

    const reader = relay.read(id);
    const replayed = await take(reader, 3);
    await writer.append(id, delta("d"));
    await writer.append(id, { type: "chunk", data: { tc: [], m: "vendor/model" } });
    await writer.append(id, final);
    await writer.append(id, delta("after the end"));
    const rest = await collect({ [Symbol.asyncIterator]: () => reader });

    const all = [...replayed, ...rest];
    expect(all.map(label)).toEqual(["a", "b", "c", "d", "", "final"]);
    expect(all[4] && asPending(all[4])).toEqual({ type: "chunk", data: { tc: [], m: "vendor/model" } });
    expectStrictlyIncreasing(all);
    expect(relay.size).toBe(0);
  });

  it("ends at an error event", async () => {
    const id = newFusion();
    await writer.append(id, delta("partial"));
    await writer.append(id, { type: "error", data: { status: 502, message: "panel failed" } });
    await writer.append(id, delta("ignored"));

    const events = await collect(relay.read(id));
    expect(events.map(asPending)).toEqual([
      delta("partial"),
      { type: "error", data: { status: 502, message: "panel failed" } },
    ]);
  });

  it("resumes exactly after afterId", async () => {
    const id = newFusion();
    const ids: string[] = [];
    for (const c of ["1", "2", "3", "4"]) ids.push(await writer.append(id, delta(c)));
    ids.push(await writer.append(id, final));

    const events = await collect(relay.read(id, { afterId: ids[1] }));
    expect(events.map(label)).toEqual(["3", "4", "final"]);
    expect(events.map((e) => e.id)).toEqual(ids.slice(2));
  });

  it("gives each of many concurrent readers only its own fusion's events", async () => {
    const fusions = Array.from({ length: 20 }, () => newFusion());
    const readers = fusions.map((id) => collect(relay.read(id)));
    // Interleave the writers: round r appends delta r to every fusion.
    for (let round = 0; round < 5; round++) {
      await Promise.all(fusions.map((id) => writer.append(id, delta(`${id}:${round}`))));
    }
    await Promise.all(fusions.map((id) => writer.append(id, final)));

    const results = await Promise.all(readers);
    results.forEach((events, i) => {
      const id = fusions[i] ?? "";
      expect(events.map(label)).toEqual([0, 1, 2, 3, 4].map((r) => `${id}:${r}`).concat("final"));
    });
    expect(relay.size).toBe(0);
  });

  it("gives a reader started mid-stream every delta exactly once, in order", async () => {
    const id = newFusion();
    const total = 500;
    let readerStarted: Promise<StoredEvent[]> | undefined;
    const appends: Array<Promise<string>> = [];
    for (let i = 0; i < total; i++) {
      // Pipeline appends in small bursts; start reading while the writer is busy.
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      if (i === 100) readerStarted = collect(relay.read(id));
      appends.push(writer.append(id, delta(String(i))));
    }
    appends.push(writer.append(id, final));
    await Promise.all(appends);
    const events = (await readerStarted) ?? [];

    expect(events.map(label)).toEqual([...Array.from({ length: total }, (_, i) => String(i)), "final"]);
    expectStrictlyIncreasing(events);
  });

  it("heals a gap: an entry that was never published is still delivered, in order", async () => {
    const id = newFusion();
    let idles = 0;
    const reader = relay.read(id, { idleMs: 60_000, onIdle: () => idles++ });
    await writer.append(id, delta("first"));
    const [first] = await take(reader, 1);

    await redis.xadd(keys.events(id), "*", "t", "chunk", "d", JSON.stringify({ c: "x" }));
    await writer.append(id, delta("after the gap"));
    await writer.append(id, final);
    const rest = await collect({ [Symbol.asyncIterator]: () => reader });

    expect([first, ...rest].map((e) => (e ? label(e) : "?"))).toEqual([
      "first",
      "x",
      "after the gap",
      "final",
    ]);
    expect(idles).toBe(0);
  });

  it("calls onIdle when nothing arrives, and re-reads the stream then", async () => {
    const id = newFusion();
    let idles = 0;
    const events = collect(relay.read(id, { idleMs: 40, onIdle: () => idles++ }));
    await new Promise((r) => setTimeout(r, 150));
    expect(idles).toBeGreaterThanOrEqual(2);

    // A final that was stored but never announced is found by the idle re-read.
    await redis.xadd(keys.events(id), "*", "t", "final", "d", JSON.stringify({ completion: {} }));
    expect((await events).map(label)).toEqual(["final"]);
  });

  it("ends the iteration and unsubscribes when the signal is aborted", async () => {
    const id = newFusion();
    const controller = new AbortController();
    const reader = relay.read(id, { signal: controller.signal });
    await writer.append(id, delta("one"));
    await take(reader, 1);
    expect(relay.size).toBe(1);
    expect(await subscriberCount(id)).toBe(1);

    const pending = reader.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(relay.size).toBe(0);
    expect(await subscriberCount(id)).toBe(0);
  });

  it("ignores a malformed live message and keeps relaying", async () => {
    const id = newFusion();
    const reader = relay.read(id);
    await writer.append(id, delta("before"));
    const [before] = await take(reader, 1);

    await command.publish(keys.eventsChannel(id), "not-an-id|0-0|final|{}");
    await writer.append(id, final);
    const rest = await collect({ [Symbol.asyncIterator]: () => reader });
    expect([before, ...rest].map((e) => (e ? label(e) : "?"))).toEqual(["before", "final"]);
  });

  it("keeps the subscription until the last reader of a fusion is gone", async () => {
    const id = newFusion();
    const controller = new AbortController();
    const first = relay.read(id, { signal: controller.signal });
    const second = collect(relay.read(id));
    await writer.append(id, delta("shared"));
    await take(first, 1);
    controller.abort();
    expect(await first.next()).toEqual({ done: true, value: undefined });
    expect(relay.size).toBe(1);

    await writer.append(id, final);
    expect((await second).map(label)).toEqual(["shared", "final"]);
    expect(await subscriberCount(id)).toBe(0);
  });
});

describe("EventWriter", () => {
  it("pulls: a reader that takes nothing holds one page or a bounded queue, then gets every entry in order", async () => {
    const small = new EventRelay(subscriber, command, { pageSize: 8, maxQueuedBytes: 4096 });
    const id = newFusion();
    const reader = small.read(id);
    await writer.append(id, delta("first"));
    const [first] = await take(reader, 1);
    const payload = "x".repeat(1000);
    for (let i = 0; i < 200; i++) await writer.append(id, delta(`${i}:${payload}`));
    await writer.append(id, final);
    await new Promise((r) => setTimeout(r, 50));
    // 200 kB were written; the idle reader holds what fits its queue, not the stream.
    expect(small.queuedBytes).toBeLessThanOrEqual(4096);
    const rest = await collect({ [Symbol.asyncIterator]: () => reader });
    const all = [first, ...rest].flatMap((e) => (e ? [label(e).split(":")[0]] : []));
    expect(all).toEqual(["first", ...Array.from({ length: 200 }, (_, i) => String(i)), "final"]);
    expectStrictlyIncreasing(rest);
    expect(small.queuedBytes).toBe(0);
  });

  it("reads a long stream page by page (XRANGE COUNT), never all at once", async () => {
    const small = new EventRelay(subscriber, command, { pageSize: 5 });
    const id = newFusion();
    for (let i = 0; i < 23; i++) await writer.append(id, delta(String(i)));
    await writer.append(id, final);
    const reader = small.read(id);
    await take(reader, 1);
    expect(small.queuedBytes).toBeLessThanOrEqual(4 * JSON.stringify({ c: "00" }).length);
    const rest = await collect({ [Symbol.asyncIterator]: () => reader });
    expect(rest.map(label)).toEqual([...Array.from({ length: 22 }, (_, i) => String(i + 1)), "final"]);
  });

  it("answers a resume at or past a finished stream's end with its terminal entry at once", async () => {
    const id = newFusion();
    await writer.append(id, delta("a"));
    const finalId = await writer.append(id, final);
    const [ms = "0"] = finalId.split("-");
    for (const afterId of [finalId, `${Number(ms) + 60_000}-0`]) {
      const started = Date.now();
      const events = await collect(relay.read(id, { afterId, idleMs: 60_000 }));
      expect(events.map((e) => [e.id, e.type])).toEqual([[finalId, "final"]]);
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });

  it("stores events with a TTL on the stream key", async () => {
    const id = newFusion();
    await writer.append(id, delta("x"));
    const ttl = await redis.ttl(keys.events(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);
  });

  it("renews the TTL after a direct XADD", async () => {
    const id = newFusion();
    await redis.xadd(keys.events(id), "*", "t", "chunk", "d", "{}");
    expect(await redis.ttl(keys.events(id))).toBe(-1);
    await writer.append(id, final);
    expect(await redis.ttl(keys.events(id))).toBeGreaterThan(0);
  });
});

describe("compareIds", () => {
  it.each([
    ["1-0", "1-0", 0],
    ["1-9", "1-10", -1],
    ["10-0", "9-99", 1],
    ["0-0", "1700000000000-0", -1],
    ["5", "5-0", 0],
    ["18446744073709551615-1", "18446744073709551615-0", 1],
    ["9007199254740993-0", "9007199254740992-0", 1],
  ])("compareIds(%s, %s) = %i", (a, b, expected) => {
    expect(compareIds(a, b)).toBe(expected);
  });
});

describe("parseLiveMessage", () => {
  it("splits id, prev, type and data, keeping `|` inside the data", () => {
    expect(parseLiveMessage('1-1|0-0|chunk|{"c":"a|b|c"}')).toEqual({
      prev: "0-0",
      stored: { id: "1-1", type: "chunk", raw: '{"c":"a|b|c"}' },
    });
  });

  it("parses final and error events", () => {
    expect(parseLiveMessage('2-0|1-5|final|{"completion":{}}')?.stored).toEqual({
      id: "2-0",
      type: "final",
      raw: '{"completion":{}}',
    });
    expect(parseLiveMessage('2-0|1-5|error|{"status":500,"message":"x"}')?.stored.type).toBe("error");
  });

  it.each([
    ["too few parts", "1-1|0-0|chunk"],
    ["no separators", "hello"],
    ["an unknown type", "1-1|0-0|delta|{}"],
    ["empty", ""],
    ["an id that is not a stream id", "abc|0-0|chunk|{}"],
    ["a prev that is not a stream id", "1-1|*|chunk|{}"],
  ])("rejects %s", (_name, message) => {
    expect(parseLiveMessage(message)).toBeUndefined();
  });

  it("keeps the payload verbatim without parsing it (the gateway relays it as it is)", () => {
    expect(parseLiveMessage("1-1|0-0|progress|{not parsed}")?.stored.raw).toBe("{not parsed}");
  });
});

describe("EventRelay: the end of the stream read while live entries arrive", () => {
  it("relays the entries published while it reads the stream's last entry, not only the terminal one", async () => {
    const fusionId = newFusion();
    await writer.append(fusionId, delta("first"));
    // The command connection the relay reads with: the batch is appended (and its live messages
    // delivered) between the relay's empty page read and its read of the stream's last entry, which
    // is where a reader waiting on an idle period checks whether the stream has ended.
    let appended = false;
    const racing = new Proxy(command, {
      get(target, prop, receiver) {
        if (prop !== "xrevrange") return Reflect.get(target, prop, receiver);
        return async (...args: unknown[]) => {
          if (!appended) {
            appended = true;
            await writer.append(fusionId, delta("last"), delta("finish"), final);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          return (target.xrevrange as (...a: unknown[]) => Promise<unknown>)(...args);
        };
      },
    });
    const racingRelay = new EventRelay(subscriber, racing);
    const labels: string[] = [];
    for await (const stored of racingRelay.read(fusionId, { idleMs: 50 })) labels.push(label(stored));
    expect(appended).toBe(true);
    expect(labels).toEqual(["first", "last", "finish", "final"]);
  });
});
