import { freePort } from "@fusion/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { until } from "./support/until.ts";

/**
 * A fusion's lifetime at the gateway (issue 11, findings 1, 12, 13 and 14), on real processes and
 * Redis: its concurrency slot lives from enqueue to its end whatever connections come and go; a client
 * that leaves cancels it at once unless the request asked for a resume grace; the grace deadline lives
 * in Redis (any gateway cancels it, even when the one that recorded it is gone); a Redis error while
 * counting readers never cancels; a cancelled fusion reads `cancelled`.
 */

const e2e = useStack({ gateways: 2, env: { MAX_CONCURRENT_FUSIONS: "2" } });
let redis: Redis;
beforeAll(() => {
  redis = new Redis(e2e.redis.url);
});
afterAll(() => redis?.disconnect());

const auth = () => ({ authorization: `Bearer ${e2e.stack.apiKey}` });

function post(gateway: number | string, body: unknown, signal?: AbortSignal): Promise<Response> {
  const base = typeof gateway === "string" ? gateway : e2e.stack.gatewayUrl(gateway);
  return fetch(`${base}/api/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth() },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

function fusion(panelist: string, options: { stream: boolean; resumeGraceMs?: number }) {
  return {
    model: "openrouter/fusion",
    stream: options.stream,
    messages: [{ role: "user", content: "take your time" }],
    plugins: [{ id: "fusion", analysis_models: [panelist], model: uniqueModel("judge"), tools: [] }],
    ...(options.resumeGraceMs !== undefined ? { fusion: { resume_grace_ms: options.resumeGraceMs } } : {}),
  };
}

async function status(fusionId: string, gateway = 1): Promise<Record<string, unknown>> {
  const res = await fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/fusions/${fusionId}`, { headers: auth() });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const slotsHeld = async () => {
  const found = await redis.keys(`${e2e.stack.prefix}:limits:fusions:*`);
  return found[0] ? redis.zcard(found[0]) : 0;
};
const graceKey = () => `${e2e.stack.prefix}:resume-grace`;
/** The gateway's Redis keys of a fusion (runtime `keys`). */
const keys = {
  readers: (fusionId: string) => `fusion:{${fusionId}}:readers`,
  cancelled: (fusionId: string) => `fusion:{${fusionId}}:cancelled`,
};

describe("the concurrency slot lives as long as the fusion (finding 1)", () => {
  it("start a stream, resume it, drop the POST, repeat: the third fusion gets 429", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 3000 });
    const resumed: Response[] = [];
    for (const gateway of [0, 1]) {
      const dropped = new AbortController();
      const res = await post(gateway, fusion(slow, { stream: true, resumeGraceMs: 30_000 }), dropped.signal);
      expect(res.status).toBe(200);
      const fusionId = res.headers.get("x-fusion-id");
      const resume = await fetch(`${e2e.stack.gatewayUrl(1 - gateway)}/api/v1/fusions/${fusionId}/stream`, {
        headers: auth(),
      });
      expect(resume.status).toBe(200);
      resumed.push(resume);
      dropped.abort();
    }
    // Both POSTs are gone, both fusions still run: the key holds its two slots.
    await new Promise((r) => setTimeout(r, 300));
    expect(await slotsHeld()).toBe(2);
    const refusedPanelist = uniqueModel("refused");
    for (const gateway of [0, 1]) {
      const third = await post(gateway, fusion(refusedPanelist, { stream: true, resumeGraceMs: 30_000 }));
      expect(third.status).toBe(429);
      expect(await third.json()).toMatchObject({
        error: { code: 429, message: expect.stringMatching(/too many fusions in flight .*at most 2/) },
      });
    }
    expect(await e2e.control.requests({ model: refusedPanelist })).toHaveLength(0);

    // The fusions finish (read through their resumed streams): their slots are free again.
    for (const res of resumed) expect(await res.text()).toContain("data: [DONE]");
    await until("slots held", slotsHeld, (n) => n === 0);
    const next = await post(0, fusion(uniqueModel("p"), { stream: false }));
    expect(next.status).toBe(200);
    await until("slots held", slotsHeld, (n) => n === 0);
  });

  it("a fusion nobody reads any more keeps its slot until it ends, then frees it", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 1500 });
    const dropped = new AbortController();
    const res = await post(0, fusion(slow, { stream: true, resumeGraceMs: 30_000 }), dropped.signal);
    const fusionId = res.headers.get("x-fusion-id") as string;
    dropped.abort();
    await new Promise((r) => setTimeout(r, 300));
    expect(await slotsHeld()).toBe(1);
    expect(await status(fusionId)).toMatchObject({ status: expect.stringMatching(/queued|running/) });
    // Done with no reader: the gateway that holds the slot sees the end and frees it.
    await until(
      "status",
      () => status(fusionId),
      (s) => s.object === "chat.completion",
    );
    await until("slots held", slotsHeld, (n) => n === 0, 5000);
  });
});

describe("disconnect cancels at once by default (findings 14 and 12)", () => {
  it("a client that leaves cancels its fusion at once; it reads cancelled and frees its slot", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 5000 });
    const leaving = new AbortController();
    const res = await post(0, fusion(slow, { stream: true }), leaving.signal);
    const fusionId = res.headers.get("x-fusion-id") as string;
    expect(await slotsHeld()).toBe(1);
    const left = Date.now();
    leaving.abort();
    const cancelled = await until(
      "status",
      () => status(fusionId),
      (s) => s.status === "cancelled",
      3000,
    );
    expect(Date.now() - left).toBeLessThan(2000);
    expect(cancelled).toMatchObject({ id: fusionId, object: "fusion", status: "cancelled" });
    await until("slots held", slotsHeld, (n) => n === 0, 3000);
  });

  it("a non-streaming client that leaves cancels its fusion too", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 5000 });
    const leaving = new AbortController();
    const pending = post(1, fusion(slow, { stream: false }), leaving.signal).catch(() => undefined);
    await until("slots held", slotsHeld, (n) => n === 1, 3000);
    // The fusion's id: the one slot of the key.
    const [slots] = await redis.keys(`${e2e.stack.prefix}:limits:fusions:*`);
    const [fusionId] = await redis.zrangebyscore(slots as string, "-inf", "+inf");
    leaving.abort();
    await pending;
    await until(
      "status",
      () => status(fusionId as string),
      (s) => s.status === "cancelled",
      3000,
    );
    await until("slots held", slotsHeld, (n) => n === 0, 3000);
  });

  it("a fusion with resume_grace_ms waits for its client, then is cancelled by any gateway: the deadline outlives the gateway that set it", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 6000 });
    // A gateway of its own, killed once the client left.
    const port = await freePort();
    const doomed = e2e.stack.spawn("gateway", 2, port);
    const doomedUrl = `http://127.0.0.1:${port}`;
    await e2e.stack.waitReady(doomedUrl);
    const leaving = new AbortController();
    const res = await post(doomedUrl, fusion(slow, { stream: true, resumeGraceMs: 1500 }), leaving.signal);
    const fusionId = res.headers.get("x-fusion-id") as string;
    leaving.abort();
    await until(
      "grace deadline",
      () => redis.zscore(graceKey(), fusionId),
      (s) => s !== null,
      3000,
    );
    await e2e.stack.kill(doomed);
    const killed = Date.now();

    // Within the grace the fusion runs on.
    expect(await status(fusionId, 0)).toMatchObject({ status: expect.stringMatching(/queued|running/) });
    // After it, the surviving gateways cancel it (well before its panel would have answered), and free
    // the slot the dead gateway held.
    await until(
      "status",
      () => status(fusionId, 0),
      (s) => s.status === "cancelled",
      4000,
    );
    expect(Date.now() - killed).toBeGreaterThanOrEqual(1000);
    expect(await redis.zscore(graceKey(), fusionId)).toBeNull();
    await until("slots held", slotsHeld, (n) => n === 0, 3000);
  });

  it("a resume within the grace keeps the fusion: it completes", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 1500 });
    const leaving = new AbortController();
    const res = await post(0, fusion(slow, { stream: true, resumeGraceMs: 1000 }), leaving.signal);
    const fusionId = res.headers.get("x-fusion-id") as string;
    leaving.abort();
    await new Promise((r) => setTimeout(r, 300));
    const resumed = await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/stream`, {
      headers: auth(),
    });
    expect(await resumed.text()).toContain("data: [DONE]");
    expect(await status(fusionId)).toMatchObject({ object: "chat.completion" });
  });
});

describe("fail closed (finding 13)", () => {
  it("a Redis error while counting readers never cancels a live fusion", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 1500 });
    const leaving = new AbortController();
    const res = await post(0, fusion(slow, { stream: true, resumeGraceMs: 200 }), leaving.signal);
    const fusionId = res.headers.get("x-fusion-id") as string;
    const readersKey = keys.readers(fusionId);
    await until(
      "readers",
      () => redis.get(readersKey),
      (n) => n === "1",
      3000,
    );
    // The reader count becomes unreadable (WRONGTYPE on every GET, INCR, DECR).
    await redis.multi().del(readersKey).hset(readersKey, "broken", "1").exec();
    leaving.abort();
    await until(
      "grace deadline",
      () => redis.zscore(graceKey(), fusionId),
      (s) => s !== null,
      3000,
    );

    // The grace passes many times over while the readers cannot be counted: the fusion is not cancelled.
    const done = await until(
      "status",
      () => status(fusionId),
      (s) => s.status !== "running" && s.status !== "queued",
      8000,
    );
    expect(done).toMatchObject({ object: "chat.completion" });
    expect(await redis.exists(keys.cancelled(fusionId))).toBe(0);
    // Once ended, the deadline is dropped.
    await until(
      "grace deadline",
      () => redis.zscore(graceKey(), fusionId),
      (s) => s === null,
      3000,
    );
    await until("slots held", slotsHeld, (n) => n === 0, 3000);
  });
});
