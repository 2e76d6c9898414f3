import { get, type IncomingMessage } from "node:http";
import { readSseFrames, type SseFrame } from "@fusion/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { retainedBytes } from "./support/retained-bytes.ts";
import { contentOf } from "./support/sse.ts";

// Issue 11, findings 4 (no backpressure on SSE) and 6 (a resume past the end never ends).
const OTHER_KEY = "sk-stream-cap-tenant-0123456789";
const MAX_OPEN_STREAMS = 32;
const SLOW_READER_MS = 2_000;
const e2e = useStack({
  gateways: 2,
  extraApiKeys: [OTHER_KEY],
  env: {
    SSE_BUFFER_BYTES: "16384",
    SSE_SLOW_READER_MS: String(SLOW_READER_MS),
    MAX_OPEN_STREAMS_PER_KEY: String(MAX_OPEN_STREAMS),
    FUSION_TIMEOUT_MS: "120000",
    MAX_CONCURRENT_FUSIONS: "100",
    // The inspector (on a free port) lets the test collect garbage in the gateway and read what it retains.
    NODE_OPTIONS: "--inspect=127.0.0.1:0",
  },
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** A finished fusion whose answer is `words` words of `wordBytes` bytes each; its id and content. */
async function finishedFusion(words: number, wordBytes: number, key = e2e.stack.apiKey) {
  const writer = uniqueModel("big");
  const reply = Array.from({ length: words }, (_, i) => `w${i}-${"x".repeat(wordBytes)}`).join(" ");
  // A token a millisecond: entries of a few tokens, as real models stream them.
  await e2e.control.script(writer, { reply, tokenDelayMs: 1, onlyRoles: ["writer"] });
  const res = await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(key) },
    body: JSON.stringify({
      model: "openrouter/fusion",
      stream: true,
      messages: [{ role: "user", content: "a long answer please" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: writer, tools: [] }],
    }),
  });
  const fusionId = res.headers.get("x-fusion-id") as string;
  const frames = await readSseFrames(res);
  expect(frames.at(-1)?.data).toBe("[DONE]");
  return { fusionId, content: contentOf(frames), frames, reply };
}

/** GET /fusions/{id}/stream with node:http, the response paused at once: a client that does not read. */
function pausedStream(gateway: number, fusionId: string, headers: Record<string, string> = {}) {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = get(
      `${e2e.stack.gatewayUrl(gateway)}/api/v1/fusions/${fusionId}/stream`,
      { headers: { ...auth(e2e.stack.apiKey), ...headers } },
      (res) => {
        res.pause();
        resolve(res);
      },
    );
    req.on("error", reject);
  });
}

/** Reads what is left of a response until its connection ends, cleanly or not. */
function drain(res: IncomingMessage): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    res.on("data", (b: Buffer) => parts.push(b));
    res.on("error", () => {});
    res.on("close", () => resolve({ text: Buffer.concat(parts).toString("utf8"), complete: res.complete }));
    res.resume();
  });
}

/** How many streams the gateways cut as too slow so far. */
const cutCount = () => e2e.stack.logs.split("client too slow for its stream: disconnected").length - 1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SSE backpressure (finding 4)", () => {
  // Larger than what the kernel buffers of one loopback connection absorb (about 4 MB here), so that a
  // client that does not read leaves the rest with the gateway.
  let big: Awaited<ReturnType<typeof finishedFusion>>;
  beforeAll(async () => {
    big = await finishedFusion(2_500, 4_000);
    expect(big.content.length).toBeGreaterThan(10_000_000);
  }, 120_000);

  it("sockets that never read a large fusion cost the gateway a bounded buffer, not the fusion", async () => {
    const sockets = 30;
    const cutBefore = cutCount();
    const before = await retainedBytes(e2e.stack, 1);
    const paused = await Promise.all(Array.from({ length: sockets }, () => pausedStream(1, big.fusionId)));
    await sleep(1_500);
    const grown = (await retainedBytes(e2e.stack, 1)) - before;
    // Without backpressure the gateway held what the sockets' kernel buffers did not take: 48 MB after
    // a second and growing; pulling, a page and a buffer per socket: about 3 MB.
    expect(grown).toBeLessThan(20 * 1024 * 1024);
    // Too slow for their buffer, each is cut SSE_SLOW_READER_MS after its buffer filled (and may resume).
    for (let i = 0; i < 100 && cutCount() - cutBefore < sockets; i++) await sleep(200);
    expect(cutCount() - cutBefore).toBe(sockets);
    const closed = await Promise.all(paused.map((res) => drain(res)));
    expect(closed.every((r) => !r.complete)).toBe(true);
  }, 60_000);

  it("a slow reader is cut, and resumes with Last-Event-ID with no gap and no duplicate", async () => {
    const before = cutCount();
    const res = await pausedStream(0, big.fusionId);
    for (let i = 0; i < 100 && cutCount() === before; i++) await sleep(200);
    const head = await drain(res);
    expect(head.complete).toBe(false);
    const headFrames = await readSseFrames(new Response(head.text));
    expect(headFrames.some((f) => f.data === "[DONE]")).toBe(false);
    const lastId = headFrames.flatMap((f) => (f.id ? [f.id] : [])).at(-1) as string;
    expect(lastId).toMatch(/^\d+-\d+$/);

    const resumed = await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${big.fusionId}/stream`, {
      headers: { ...auth(e2e.stack.apiKey), "last-event-id": lastId },
    });
    const tail = await readSseFrames(resumed);
    expect(tail.at(-1)?.data).toBe("[DONE]");
    // Only whole frames count: a frame cut mid-way is sent again after the last whole one.
    expect(contentOf(headFrames) + contentOf(tail)).toBe(big.content);
    const ids = [...headFrames, ...tail].flatMap((f: SseFrame) => (f.id ? [f.id] : []));
    expect(new Set(ids).size).toBe(ids.length);
  }, 60_000);

  it("caps a key's open streams across gateways (429 in the error shape); a closed one frees its place", async () => {
    const writer = uniqueModel("slow-writer");
    await e2e.control.script(writer, { latencyMs: 20_000, onlyRoles: ["writer"] });
    const start = await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth(OTHER_KEY) },
      body: JSON.stringify({
        model: "openrouter/fusion",
        stream: true,
        messages: [{ role: "user", content: "x" }],
        plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: writer, tools: [] }],
      }),
    });
    expect(start.status).toBe(200);
    const fusionId = start.headers.get("x-fusion-id") as string;
    const open = [start];
    const url = (g: number) => `${e2e.stack.gatewayUrl(g)}/api/v1/fusions/${fusionId}/stream`;
    const controllers: AbortController[] = [];
    for (let i = 1; i < MAX_OPEN_STREAMS; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      const res = await fetch(url(i % 2), { headers: auth(OTHER_KEY), signal: controller.signal });
      expect(res.status).toBe(200);
      open.push(res);
    }
    const refused = await fetch(url(1), { headers: auth(OTHER_KEY) });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({
      error: { code: 429, metadata: { limit: "open_streams", max: MAX_OPEN_STREAMS } },
    });
    // A new streaming fusion of the key counts too; the other key is not affected.
    const post = await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth(OTHER_KEY) },
      body: JSON.stringify({
        model: "openrouter/fusion",
        stream: true,
        messages: [{ role: "user", content: "y" }],
      }),
    });
    expect(post.status).toBe(429);
    const mine = await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/fusions/${fusionId}/stream`, {
      headers: auth(e2e.stack.apiKey),
    });
    expect(mine.status).toBe(404);

    controllers[0]?.abort();
    let reopened = 0;
    for (let i = 0; i < 50 && reopened !== 200; i++) {
      await sleep(100);
      const again = await fetch(url(0), { headers: auth(OTHER_KEY) });
      reopened = again.status;
      if (reopened === 200) void again.body?.cancel();
      else await again.body?.cancel();
    }
    expect(reopened).toBe(200);
    for (const c of controllers) c.abort();
    for (const r of open) await r.body?.cancel().catch(() => {});
  }, 60_000);
});

describe("resuming past the end (finding 6)", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(e2e.redis.url);
  });
  afterAll(() => redis?.disconnect());

  it("a Last-Event-ID at or past a finished fusion's end gets the end at once", async () => {
    const { fusionId, frames } = await finishedFusion(3, 10);
    const finalId = frames.at(-1)?.id as string;
    expect(finalId).toMatch(/^\d+-\d+$/);
    const [ms = "0"] = finalId.split("-");
    for (const lastEventId of [finalId, `${Number(ms) + 3_600_000}-0`]) {
      const started = Date.now();
      const res = await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/stream`, {
        headers: { ...auth(e2e.stack.apiKey), "last-event-id": lastEventId },
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      const tail = await readSseFrames(res);
      expect(tail.filter((f) => f.data !== undefined)).toEqual([
        expect.objectContaining({ id: finalId, data: "[DONE]" }),
      ]);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it("a fusion whose events expired while its record lives answers 410 at once", async () => {
    const { fusionId } = await finishedFusion(3, 10);
    // As STREAM_RETENTION_SECONDS does after the last event: the stream goes, the meta stays.
    await redis.pexpire(`fusion:{${fusionId}}:events`, 1);
    await sleep(20);
    for (const headers of [{}, { "last-event-id": "1-0" }]) {
      const started = Date.now();
      const res = await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/fusions/${fusionId}/stream`, {
        headers: { ...auth(e2e.stack.apiKey), ...headers },
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(410);
      expect(await res.json()).toMatchObject({ error: { code: 410, type: "gone" } });
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });
});
