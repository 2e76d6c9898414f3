import { readSseFrames } from "@fusion/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { runPool } from "./support/pool.ts";

// Short retention so that a test can watch everything a fusion leaves behind expire.
const e2e = useStack({
  ownRedis: true,
  env: {
    JOB_RETENTION_SECONDS: "1",
    STREAM_RETENTION_SECONDS: "2",
    FUSION_TIMEOUT_MS: "5000",
    QUEUE_EVENTS_MAX_LEN: "50",
  },
});
let redis: Redis;
beforeAll(() => {
  redis = new Redis(e2e.redis.url);
});
afterAll(() => redis?.disconnect());

const panel = [uniqueModel("a"), uniqueModel("b"), uniqueModel("c")];
const judge = uniqueModel("judge");

async function fusions(count: number): Promise<void> {
  await runPool(count, 10, async (i) => {
    const stream = i % 2 === 0;
    const res = await e2e.post({
      model: "openrouter/fusion",
      stream,
      messages: [{ role: "user", content: `question ${i}` }],
      plugins: [{ id: "fusion", analysis_models: panel, model: judge }],
    });
    expect(res.status).toBe(200);
    if (stream) expect((await readSseFrames(res)).at(-1)?.data).toBe("[DONE]");
    else await res.json();
  });
}

/** Lets every per-fusion key expire and BullMQ clean finished jobs (it does so when a later job finishes). */
async function settle(): Promise<{ keys: number; memory: number }> {
  await new Promise((r) => setTimeout(r, 7500));
  await fusions(1);
  await new Promise((r) => setTimeout(r, 7500));
  const info = await redis.info("memory");
  // BullMQ's `stalled-check` markers come and go every few seconds by design: they are not left behind.
  const keys = (await redis.keys("*")).filter((k) => !k.endsWith(":stalled-check"));
  return { keys: keys.length, memory: Number(/used_memory:(\d+)/.exec(info)?.[1]) };
}

describe("Redis stays bounded", () => {
  it("after many fusions, the key count and memory return to where they started", async () => {
    await fusions(40); // fills BullMQ's capped events streams, so the baseline holds them at their cap
    const before = await settle();
    await fusions(80);
    const after = await settle();
    expect(after.keys).toBeLessThanOrEqual(before.keys);
    expect(after.memory - before.memory).toBeLessThan(1024 * 1024);
  }, 120_000);
});
