import { type QueueShard, queueShards, shardOfFusion } from "@fusion/runtime";
import { readSseFrames, type SseFrame } from "@fusion/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { chunksOf, contentOf } from "./support/sse.ts";

/**
 * QUEUE_SHARDS=3 on one Redis: every path of a fusion (forced, streaming, offered with and without the
 * fusion call, cancelled) runs with its whole flow in the shard its id hashes to; readiness sees every
 * shard; a panel worker given some shards (QUEUE_SHARDS_SERVED) leaves the other shards' jobs alone.
 */
const e2e = useStack({
  gateways: 2,
  env: { QUEUE_SHARDS: "3" },
  // Panel workers started later by the suite serve some shards only (panel-worker#0 serves all).
  serviceEnv: (name, index) =>
    name !== "panel-worker"
      ? undefined
      : (
          { 0: {}, 1: { QUEUE_SHARDS_SERVED: "0,1" }, 2: { QUEUE_SHARDS_SERVED: "2" } } as Record<
            number,
            Record<string, string>
          >
        )[index],
});

let redis: Redis;
let shards: QueueShard[];
beforeAll(() => {
  redis = new Redis(e2e.redis.url);
  shards = queueShards(e2e.stack.prefix, 3);
});
afterAll(() => redis?.disconnect());

const post = (body: unknown, gateway = 0) =>
  fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${e2e.stack.apiKey}` },
    body: JSON.stringify(body),
  });

const forced = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "openrouter/fusion",
  messages: [{ role: "user", content }],
  plugins: [
    {
      id: "fusion",
      analysis_models: [uniqueModel("p1"), uniqueModel("p2")],
      model: uniqueModel("j"),
      tools: [],
    },
  ],
  ...extra,
});

/** The shard whose prefix holds the fusion's turn job, checking that no other shard holds any of its jobs. */
async function shardHolding(fusionId: string): Promise<number> {
  const holding: number[] = [];
  for (const shard of shards) {
    const found = await redis.keys(`${shard.prefix}:*:${fusionId}*`);
    if (found.length > 0) holding.push(shard.index);
  }
  expect(holding, `shards holding ${fusionId}`).toHaveLength(1);
  return holding[0] as number;
}

const seen = new Set<number>();
async function expectInItsShard(fusionId: string) {
  const expected = shardOfFusion(shards, fusionId);
  expect(await shardHolding(fusionId)).toBe(expected.index);
  // The answer's last event is written by the turn job, which BullMQ marks finished just after.
  await expect
    .poll(() => redis.hget(`${expected.prefix}:turn:${fusionId}`, "finishedOn"), { timeout: 5000 })
    .not.toBeNull();
  seen.add(expected.index);
}

describe("QUEUE_SHARDS=3 on one Redis", () => {
  it("is ready once every shard has every kind of worker, and says so per shard", async () => {
    const res = await fetch(`${e2e.stack.baseUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "ready",
      redis: "ok",
      workers: { panel: 1, judge: 1, turn: 1 },
      shards: [0, 1, 2].map((shard) => ({ shard, panel: 1, judge: 1, turn: 1 })),
    });
    // The shards are three queue sets under three hash tags, shard 0 under the prefix itself.
    expect(shards[0]?.prefix).toBe(e2e.stack.prefix);
    expect(new Set(shards.map((s) => s.slot)).size).toBe(3);
  });

  it("answers forced fusions, streaming or not, each flow in its fusion's shard", async () => {
    const plain = await post(forced("Compare ridge and lasso."));
    expect(plain.status).toBe(200);
    const body = (await plain.json()) as { id: string; fusion: { status: string; responses: unknown[] } };
    expect(body.fusion).toMatchObject({ status: "ok" });
    expect(body.fusion.responses).toHaveLength(2);
    await expectInItsShard(body.id);

    const streamed = await post(forced("Stream it.", { stream: true }), 1);
    const frames = await readSseFrames(streamed);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(contentOf(frames)).toContain("Final answer from");
    await expectInItsShard(streamed.headers.get("x-fusion-id") as string);
  });

  it("runs an offered fusion the model calls: the judge flow joins the turn job in its shard", async () => {
    const caller = uniqueModel("caller");
    await e2e.control.script(caller, { fusion: "call" });
    const res = await post({
      model: caller,
      messages: [{ role: "user", content: "What should I use?" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p1"), uniqueModel("p2")] }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      id: string;
      choices: Array<{ message: { content: string } }>;
      fusion: { status: string };
    };
    expect(body.fusion.status).toBe("ok");
    expect(body.choices[0]?.message.content).toContain(`Final answer from ${caller}`);
    await expectInItsShard(body.id);
    const { prefix } = shardOfFusion(shards, body.id);
    expect(await redis.hkeys(`${prefix}:turn:${body.id}:processed`)).toEqual([
      `${prefix}:judge:${body.id}-judge`,
    ]);
  });

  it("answers an offered fusion the model does not call (no panel)", async () => {
    const caller = uniqueModel("caller");
    await e2e.control.script(caller, { fusion: "decline" });
    const res = await post({
      model: caller,
      messages: [{ role: "user", content: "Just answer." }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p1")] }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string };
    await expectInItsShard(body.id);
  });

  it("cancels a fusion in any shard on request", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 20_000 });
    const res = await post({
      ...forced("cancel me", { stream: true, fusion: { resume_grace_ms: 30_000 } }),
      plugins: [{ id: "fusion", analysis_models: [slow], model: uniqueModel("j"), tools: [] }],
    });
    const fusionId = res.headers.get("x-fusion-id") as string;
    const reading = readSseFrames(res);
    await expect
      .poll(async () => (await e2e.control.requests({ model: slow })).length, { timeout: 10_000 })
      .toBe(1);
    const cancelled = await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
    });
    expect(await cancelled.json()).toMatchObject({ id: fusionId, status: "cancelled" });
    const frames = await reading;
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(chunksOf(frames).at(-1)?.error).toMatchObject({ code: "cancelled" });
    const { prefix } = shardOfFusion(shards, fusionId);
    await expect
      .poll(() => redis.hget(`${prefix}:turn:${fusionId}`, "finishedOn"), { timeout: 15_000 })
      .not.toBeNull();
    expect(await shardHolding(fusionId)).toBe(shardOfFusion(shards, fusionId).index);
  });

  it("spreads fusions over every shard", async () => {
    for (let i = 0; seen.size < 3 && i < 40; i++) {
      const res = await post(forced(`spread ${i}`));
      expect(res.status).toBe(200);
      await expectInItsShard(((await res.json()) as { id: string }).id);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it("leaves a shard's jobs alone while no worker serves it, and runs them once one does", async () => {
    // The panel worker of every shard goes; one serving shards 0 and 1 comes.
    const all = e2e.stack.services.find((s) => s.name === "panel-worker" && s.index === 0);
    if (!all) throw new Error("no panel-worker#0");
    await e2e.stack.kill(all, "SIGTERM");
    e2e.stack.spawn("panel-worker", 1, 0);
    await expect
      .poll(
        async () => {
          const res = await fetch(`${e2e.stack.baseUrl}/readyz`);
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        },
        { timeout: 15_000 },
      )
      .toMatchObject({
        status: 503,
        body: {
          error: { message: "not ready: waiting for panel and judge workers of queue shard 2" },
          workers: { panel: 0 },
          shards: [
            { shard: 0, panel: 1 },
            { shard: 1, panel: 1 },
            { shard: 2, panel: 0 },
          ],
        },
      });

    // Streaming fusions until one falls in shard 2 and one elsewhere.
    const started: Array<{ id: string; shard: number; panel: string; reading: Promise<SseFrame[]> }> = [];
    for (let i = 0; i < 40; i++) {
      const shardsSoFar = new Set(started.map((f) => f.shard));
      if (shardsSoFar.has(2) && started.some((f) => f.shard !== 2)) break;
      const panel = uniqueModel("p");
      const res = await post({
        ...forced(`subset ${i}`, { stream: true }),
        plugins: [{ id: "fusion", analysis_models: [panel], model: uniqueModel("j"), tools: [] }],
      });
      const id = res.headers.get("x-fusion-id") as string;
      started.push({ id, shard: shardOfFusion(shards, id).index, panel, reading: readSseFrames(res) });
    }
    const [served, unserved] = [started.filter((f) => f.shard !== 2), started.filter((f) => f.shard === 2)];
    expect(served.length).toBeGreaterThan(0);
    expect(unserved.length).toBeGreaterThan(0);

    for (const f of served) {
      const frames = await f.reading;
      expect(contentOf(frames)).toContain("Final answer from");
    }
    // Shard 2's panel jobs still wait, untouched: no panel call was made for them.
    const shard2 = shards[2] as QueueShard;
    const waiting = await redis.lrange(`${shard2.prefix}:panel:wait`, 0, -1);
    for (const f of unserved) {
      expect(waiting).toContain(`${f.id}-panel-0`);
      expect(await e2e.control.requests({ model: f.panel })).toHaveLength(0);
    }

    // A worker for shard 2 comes: they run, and the deployment is ready again.
    e2e.stack.spawn("panel-worker", 2, 0);
    for (const f of unserved) {
      const frames = await f.reading;
      expect(contentOf(frames)).toContain("Final answer from");
      expect(await e2e.control.requests({ model: f.panel })).toHaveLength(1);
    }
    await expect
      .poll(async () => (await fetch(`${e2e.stack.baseUrl}/readyz`)).status, { timeout: 10_000 })
      .toBe(200);
    expect(e2e.stack.logs).toMatch(/"shards":\[0,1\],"msg":"panel worker ready"/);
  });

  it("the logs show no worker or queue errors", () => {
    expect(e2e.stack.logs).not.toMatch(/"worker error"|"queue error"|could not enqueue/);
  });
});
