import { createRedis, EventRelay, EventWriter } from "@fusion/runtime";
import { type RedisFixture, readSseFrames, startRedis } from "@fusion/testing";
import type { PendingEvent } from "@fusion/wire";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fusionSseStream } from "./fusion-sse-stream.ts";
import { KEEPALIVE_FRAME } from "./sse-frames.ts";

type Frame =
  | { kind: "comment"; id?: string; text: string }
  | { kind: "done"; id?: string }
  | { kind: "data"; id?: string; event?: string; json: Record<string, unknown> };

/**
 * The layout of SSE text, which the shared reader does not keep: each frame is optional `id: ` and
 * `event: ` lines, then one `data: ` line (JSON or [DONE]) or one comment line. Anything else fails the test.
 */
function expectLayout(text: string): void {
  expect(text === "" || text.endsWith("\n\n")).toBe(true);
  for (const block of text.split("\n\n").slice(0, -1)) {
    const lines = block.split("\n");
    while (lines[0]?.startsWith("id: ") || lines[0]?.startsWith("event: ")) lines.shift();
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    if (!line.startsWith(":")) expect(line.startsWith("data: ")).toBe(true);
  }
}

/** Reads the rest of a body, checks its layout, and parses its frames with the shared SSE reader. */
async function readFrames(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Frame[]> {
  const text = await readAll(reader);
  expectLayout(text);
  return (await readSseFrames(new Response(text))).map((frame): Frame => {
    const withId = frame.id ? { id: frame.id } : {};
    if (frame.data === undefined) return { kind: "comment", ...withId, text: (frame.comment ?? "").trim() };
    if (frame.data === "[DONE]") return { kind: "done", ...withId };
    const json: unknown = JSON.parse(frame.data);
    expect(typeof json === "object" && json !== null && !Array.isArray(json)).toBe(true);
    return {
      kind: "data",
      ...withId,
      ...(frame.event ? { event: frame.event } : {}),
      json: json as Record<string, unknown>,
    };
  });
}

function dataOf(frames: Frame[]): Array<Record<string, unknown>> {
  return frames.flatMap((f) => (f.kind === "data" ? [f.json] : []));
}

const chunk = (content: string): PendingEvent => ({
  type: "chunk",
  data: { id: "f", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] },
});
const progress: PendingEvent = {
  type: "progress",
  data: { object: "fusion.progress", choices: [], stage: "panel" },
};
const finalEvent: PendingEvent = { type: "final", data: { completion: { id: "f" } } };

describe("fusionSseStream", () => {
  let fixture: RedisFixture;
  let connections: Redis[];
  let relay: EventRelay;
  let writer: EventWriter;
  let seq = 0;

  beforeAll(async () => {
    fixture = await startRedis();
    connections = [
      createRedis(fixture.url, "subscriber"),
      createRedis(fixture.url, "producer"),
      createRedis(fixture.url, "producer"),
    ];
    await Promise.all(connections.map(ready));
    const [subscriber, command, producer] = connections as [Redis, Redis, Redis];
    relay = new EventRelay(subscriber, command);
    writer = new EventWriter(producer, 60);
  });

  afterAll(async () => {
    for (const c of connections ?? []) c.disconnect();
    await fixture?.close();
  });

  function stream(
    fusionId: string,
    overrides: {
      keepAliveMs?: number;
      deadlineMs?: number;
      afterId?: string;
      progressEvents?: boolean;
      bufferBytes?: number;
      slowReaderMs?: number;
    } = {},
  ) {
    const gone = { count: 0, slow: 0 };
    const body = fusionSseStream({
      relay,
      fusionId,
      model: "openai/gpt-5",
      progressEvents: overrides.progressEvents ?? false,
      ...(overrides.afterId ? { afterId: overrides.afterId } : {}),
      keepAliveMs: overrides.keepAliveMs ?? 10_000,
      deadlineMs: overrides.deadlineMs ?? 10_000,
      ...(overrides.bufferBytes ? { bufferBytes: overrides.bufferBytes } : {}),
      ...(overrides.slowReaderMs ? { slowReaderMs: overrides.slowReaderMs } : {}),
      onClientGone: () => gone.count++,
      onSlowReader: () => gone.slow++,
    });
    return { reader: body.getReader(), gone };
  }

  it("sends a keep-alive comment first, then every entry with its id, then [DONE]", async () => {
    const id = `sse-${++seq}`;
    const { reader, gone } = stream(id);
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe(KEEPALIVE_FRAME);

    await writer.append(id, chunk("Hel"));
    await writer.append(id, progress);
    await writer.append(id, chunk("lo"), finalEvent);
    const frames = await readFrames(reader);

    expect(frames.map((f) => f.kind)).toEqual(["data", "comment", "data", "done"]);
    expect(frames.every((f) => f.id && /^\d+-\d+$/.test(f.id))).toBe(true);
    expect(
      dataOf(frames).map((c) => (c.choices as Array<{ delta: { content: string } }>)[0]?.delta.content),
    ).toEqual(["Hel", "lo"]);
    expect(gone.count).toBe(0);
    expect(relay.size).toBe(0);
  });

  it("resumes exactly after a Last-Event-ID: no gap, no duplicate", async () => {
    const id = `sse-${++seq}`;
    await writer.append(id, chunk("a"), chunk("b"), chunk("c"), chunk("d"), finalEvent);
    const all = (await readFrames(stream(id).reader)).filter((f) => f.kind !== "comment");
    const cut = all[1]?.id as string;
    const resumed = (await readFrames(stream(id, { afterId: cut }).reader)).filter(
      (f) => f.kind !== "comment",
    );
    expect(resumed).toEqual(all.slice(2));
    expect(
      dataOf(resumed).map((c) => (c.choices as Array<{ delta: { content: string } }>)[0]?.delta.content),
    ).toEqual(["c", "d"]);
  });

  it("sends progress as named events when asked", async () => {
    const id = `sse-${++seq}`;
    await writer.append(id, progress, chunk("x"), finalEvent);
    const frames = await readFrames(stream(id, { progressEvents: true }).reader);
    const named = frames.find((f) => f.kind === "data" && f.event === "fusion.progress");
    expect(named).toMatchObject({ json: { object: "fusion.progress", choices: [], stage: "panel" } });
  });

  it("sends keep-alive comments while the fusion is quiet", async () => {
    const id = `sse-${++seq}`;
    const { reader } = stream(id, { keepAliveMs: 30 });
    await new Promise((r) => setTimeout(r, 120));
    await writer.append(id, chunk("late"), { type: "error", data: { status: 500, message: "judge failed" } });
    const frames = await readFrames(reader);

    const comments = frames.filter((f) => f.kind === "comment");
    expect(comments.length).toBeGreaterThanOrEqual(3);
    expect(frames.slice(-2).map((f) => f.kind)).toEqual(["data", "done"]);
  });

  it("calls onClientGone exactly once when the client cancels, and stops reading", async () => {
    const id = `sse-${++seq}`;
    const { reader, gone } = stream(id);
    await reader.read();
    await writer.append(id, chunk("partial"));
    await reader.read();
    expect(relay.size).toBe(1);

    await reader.cancel();
    await reader.cancel().catch(() => {});
    expect(gone.count).toBe(1);
    await waitFor(() => relay.size === 0);
    // Events after the cancel reach nobody and do not call onClientGone again.
    await writer.append(id, finalEvent);
    await new Promise((r) => setTimeout(r, 20));
    expect(gone.count).toBe(1);
  });

  it("does not call onClientGone when the client cancels after the end", async () => {
    const id = `sse-${++seq}`;
    await writer.append(id, finalEvent);
    const { reader, gone } = stream(id);
    expect((await readFrames(reader)).at(-1)).toMatchObject({ kind: "done" });
    await reader.cancel();
    expect(gone.count).toBe(0);
  });

  it("ends with a 408 error chunk when the deadline passes", async () => {
    const id = `sse-${++seq}`;
    const { reader, gone } = stream(id, { deadlineMs: 50 });
    const frames = await readFrames(reader);

    expect(frames.map((f) => f.kind)).toEqual(["comment", "data", "done"]);
    expect(dataOf(frames)[0]).toMatchObject({
      error: { status: 408, message: "the fusion did not finish in time" },
      choices: [{ finish_reason: "error" }],
    });
    expect(gone.count).toBe(1);
    expect(relay.size).toBe(0);
  });

  it("pulls: a client that does not read holds a bounded buffer, not the fusion", async () => {
    const id = `sse-${++seq}`;
    const text = "y".repeat(1000);
    for (let i = 0; i < 300; i++) await writer.append(id, chunk(`${i}:${text}`));
    await writer.append(id, finalEvent);
    const { reader, gone } = stream(id, { bufferBytes: 8 * 1024, slowReaderMs: 60_000 });
    await reader.read();
    await new Promise((r) => setTimeout(r, 100));
    // 300 kB are stored; the stream read a buffer's worth and stopped.
    expect(relay.size).toBe(1);
    expect(relay.queuedBytes).toBeLessThanOrEqual(64 * 1100);
    const frames = (await readFrames(reader)).filter((f) => f.kind === "data");
    const contents = dataOf(frames).map(
      (c) => (c.choices as Array<{ delta: { content: string } }>)[0]?.delta.content.split(":")[0],
    );
    expect(contents).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    expect(gone).toEqual({ count: 0, slow: 0 });
  });

  it("disconnects a client too slow for its buffer, without cancelling; it resumes with no gap", async () => {
    const id = `sse-${++seq}`;
    const text = "z".repeat(1000);
    for (let i = 0; i < 100; i++) await writer.append(id, chunk(`${i}:${text}`));
    await writer.append(id, finalEvent);
    const { reader, gone } = stream(id, { bufferBytes: 4 * 1024, slowReaderMs: 100 });
    const decoder = new TextDecoder();
    let head = "";
    for (let i = 0; i < 4; i++) head += decoder.decode((await reader.read()).value, { stream: true });
    await new Promise((r) => setTimeout(r, 300));
    await expect(reader.read()).rejects.toThrow(/did not read its stream in time/);
    expect(gone).toEqual({ count: 0, slow: 1 });
    await waitFor(() => relay.size === 0);

    const headFrames = await readSseFrames(new Response(head));
    const lastId = headFrames.flatMap((f) => (f.id ? [f.id] : [])).at(-1) as string;
    const tail = (await readFrames(stream(id, { afterId: lastId }).reader)).filter(
      (f) => f.kind !== "comment",
    );
    const seen = [
      ...headFrames.filter((f) => f.data).map((f) => JSON.parse(f.data as string)),
      ...dataOf(tail),
    ];
    const contents = seen.map(
      (c) => (c.choices as Array<{ delta: { content: string } }>)[0]?.delta.content.split(":")[0],
    );
    expect(contents).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(tail.at(-1)).toMatchObject({ kind: "done" });
  });

  it("ends with a 503 error chunk when the relay fails", async () => {
    const subscriber = createRedis(fixture.url, "subscriber");
    const command = createRedis(fixture.url, "producer");
    await Promise.all([ready(subscriber), ready(command)]);
    command.disconnect();
    const broken = new EventRelay(subscriber, command);
    const body = fusionSseStream({
      relay: broken,
      fusionId: `sse-${++seq}`,
      model: "m",
      progressEvents: false,
      keepAliveMs: 10_000,
      deadlineMs: 10_000,
      onClientGone: () => {},
    });
    try {
      const frames = await readFrames(body.getReader());
      expect(frames.map((f) => f.kind)).toEqual(["comment", "data", "done"]);
      expect(dataOf(frames)[0]).toMatchObject({
        error: { status: 503, message: expect.stringMatching(/^stream relay failed: /) },
      });
    } finally {
      subscriber.disconnect();
    }
  });
});

function ready(connection: Redis): Promise<void> {
  if (connection.status === "ready") return Promise.resolve();
  return new Promise((resolve) => connection.once("ready", () => resolve()));
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
