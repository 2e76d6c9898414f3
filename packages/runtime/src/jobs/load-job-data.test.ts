import { type RedisFixture, startRedis } from "@fusion/testing";
import { storedPanelJobSchema, storedTurnJobSchema } from "@fusion/wire";
import { UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelFusion } from "../cancel.ts";
import { createRedis } from "../redis/redis.ts";
import { storeConversation } from "./conversation-store.ts";
import { jobFusionId, loadPanelJob, withProgressLevel } from "./load-job-data.ts";

const panelJob = {
  fusionId: "gen-fusion-1",
  requestId: "req-1",
  index: 0,
  model: "a/b",
  settings: { analysisModels: ["a/b"], judgeModel: "c/d", maxToolCalls: 4, tools: [] },
};

describe("withProgressLevel: jobs stored before progress levels stay readable", () => {
  it.each([
    [true, "events"],
    [false, "none"],
  ])("reads emitProgress %j as progress %j", (emitProgress, level) => {
    const parsed = storedPanelJobSchema.parse(withProgressLevel({ ...panelJob, emitProgress }));
    expect(parsed.progress).toBe(level);
    expect(parsed).not.toHaveProperty("emitProgress");
  });

  it("leaves a job with a level as it is, and one with neither at none", () => {
    expect(storedPanelJobSchema.parse(withProgressLevel({ ...panelJob, progress: "full" })).progress).toBe(
      "full",
    );
    expect(storedPanelJobSchema.parse(withProgressLevel(panelJob)).progress).toBe("none");
  });

  it("reads an old turn job too", () => {
    const turn = {
      fusionId: "gen-fusion-1",
      requestId: "req-1",
      emitProgress: true,
      mode: "forced",
      stream: true,
      includeUsage: false,
      writerModel: "a/b",
      settings: panelJob.settings,
      createdAt: 1,
      step: "await-fusion",
    };
    expect(storedTurnJobSchema.parse(withProgressLevel(turn)).progress).toBe("events");
  });
});

describe("loadPanelJob: the conversation and the cancel key in one round trip", () => {
  let fixture: RedisFixture;
  let redis: Redis;
  let seq = 0;
  beforeAll(async () => {
    fixture = await startRedis();
    redis = createRedis(fixture.url, "worker", "test-load-job-data");
  });
  afterAll(async () => {
    redis?.disconnect();
    await fixture?.close();
  });
  const stored = async () => {
    const fusionId = `load-test-${process.pid}-${++seq}`;
    const messages = [{ role: "user" as const, content: "hi" }];
    await storeConversation(redis, fusionId, { body: { model: "a/b", messages } }, 60);
    return { ...panelJob, fusionId, progress: "none" };
  };

  it("answers the first check from the load's read, later ones from Redis", async () => {
    const data = await stored();
    const loaded = await loadPanelJob(redis, data);
    expect(loaded.data.messages).toEqual([{ role: "user", content: "hi" }]);
    await cancelFusion(redis, data.fusionId);
    // The load read no cancel key: the first check says so without asking again.
    expect(await loaded.isCancelled()).toBe(false);
    expect(await loaded.isCancelled()).toBe(true);
  });

  it("sees a fusion cancelled before the load", async () => {
    const data = await stored();
    await cancelFusion(redis, data.fusionId);
    expect(await (await loadPanelJob(redis, data)).isCancelled()).toBe(true);
  });

  it("gives the conversation's expiry, when it was stored with it", async () => {
    const data = await stored();
    expect((await loadPanelJob(redis, data)).expiresAt).toBeUndefined();
    const expiresAt = Date.now() + 60_000;
    const body = { model: "a/b", messages: [{ role: "user" as const, content: "hi" }] };
    await storeConversation(redis, data.fusionId, { body, expiresAt }, 60);
    expect((await loadPanelJob(redis, data)).expiresAt).toBe(expiresAt);
  });

  it("fails for good when the conversation is gone", async () => {
    const data = { ...panelJob, fusionId: "load-test-gone", progress: "none" };
    await expect(loadPanelJob(redis, data)).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it("names the fusion of stored data, or none", () => {
    expect(jobFusionId(panelJob)).toBe("gen-fusion-1");
    expect(jobFusionId(null)).toBe("");
    expect(jobFusionId({ fusionId: 3 })).toBe("");
  });
});
