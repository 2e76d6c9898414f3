import { keys } from "@fusion/runtime";
import { readSseFrames } from "@fusion/testing";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { bodyOf, uniqueModel, useStack } from "./support/fixture.ts";
import { chunksOf, dataOf } from "./support/sse.ts";

const e2e = useStack();

type Fusion = {
  status: string;
  analysis?: { consensus: string[] };
  responses?: Array<{ model: string; content: string }>;
  failed_models?: string[];
  failure_reason?: string;
  error?: string;
};

async function fuse(panel: string[], judge: string, extra: Record<string, unknown> = {}) {
  const res = await e2e.post({
    model: "openrouter/fusion",
    messages: [{ role: "user", content: "Is nuclear power cheap?" }],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge, ...extra }],
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; fusion: Fusion };
  return { content: body.choices[0]?.message.content ?? "", fusion: body.fusion };
}

describe("panel and judge failures", () => {
  it("a failing panelist is listed in failed_models; the judge runs with the rest", async () => {
    const [ok1, bad, ok2] = [uniqueModel("ok"), uniqueModel("bad"), uniqueModel("ok")];
    const judge = uniqueModel("judge");
    await e2e.control.script(bad, { alwaysFail: { status: 400, message: "model not found" } });
    const { content, fusion } = await fuse([ok1, bad, ok2], judge);
    expect(fusion.status).toBe("ok");
    expect(fusion.failed_models).toEqual([bad]);
    expect(fusion.responses?.map((r) => r.model)).toEqual([ok1, ok2]);
    expect(fusion.analysis).toBeDefined();
    expect(content).toContain(`Failed: ${bad}`);
    // 400 is not retried.
    expect(await e2e.control.requests({ model: bad })).toHaveLength(1);
  });

  it("when every panelist fails: status error, all_panels_failed, and the judge is not called", async () => {
    const panel = [uniqueModel("bad"), uniqueModel("bad")];
    const judge = uniqueModel("judge");
    for (const m of panel) await e2e.control.script(m, { alwaysFail: { status: 401, message: "no" } });
    const { content, fusion } = await fuse(panel, judge);
    expect(fusion).toMatchObject({
      status: "error",
      failure_reason: "all_panels_failed",
      failed_models: panel,
    });
    expect(fusion.error).toMatch(/failed/);
    expect(await e2e.control.requests({ model: judge, role: "judge" })).toHaveLength(0);
    // The writer still answers, told that the panel could not be consulted.
    expect(content).toContain("The panel could not be consulted (all_panels_failed)");
  });

  it("a judge that fails leaves status ok with the responses and no analysis", async () => {
    const panel = [uniqueModel("p")];
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { judgeOutput: "invalid", onlyRoles: ["judge"] });
    const { content, fusion } = await fuse(panel, judge);
    expect(fusion.status).toBe("ok");
    expect(fusion.analysis).toBeUndefined();
    expect(fusion.responses).toHaveLength(1);
    expect(content).toContain("No analysis was available");
    // It was asked once to repair its JSON: the last judge request carries the repair instruction.
    const judgeCalls = await e2e.control.requests({ model: judge, role: "judge" });
    const lastMessages = (bodyOf(judgeCalls.at(-1)) as { messages: Array<{ role: string; content: string }> })
      .messages;
    expect(lastMessages.at(-1)?.content).toMatch(/could not be used/);
    expect(judgeCalls.filter((r) => JSON.stringify(r.body).includes("could not be used"))).toHaveLength(1);
  });

  it("a judge whose upstream errors leaves status ok without analysis", async () => {
    const panel = [uniqueModel("p")];
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, {
      alwaysFail: { status: 403, message: "forbidden" },
      onlyRoles: ["judge"],
    });
    const { fusion } = await fuse(panel, judge);
    expect(fusion.status).toBe("ok");
    expect(fusion.analysis).toBeUndefined();
  });

  it.each(["fenced", "prose", "invalid-then-valid"] as const)(
    "judge JSON that is %s is recovered",
    async (judgeOutput) => {
      const panel = [uniqueModel("p1"), uniqueModel("p2")];
      const judge = uniqueModel("judge");
      await e2e.control.script(judge, { judgeOutput, onlyRoles: ["judge"] });
      const { fusion } = await fuse(panel, judge);
      expect(fusion.status).toBe("ok");
      expect(fusion.analysis?.consensus).toEqual(["All 2 panelists agree on the core answer."]);
    },
  );

  it("a 429 with Retry-After is retried and the panelist succeeds", async () => {
    const flaky = uniqueModel("flaky");
    const judge = uniqueModel("judge");
    await e2e.control.script(flaky, { failures: [{ status: 429, retryAfter: 0.3 }, { status: 503 }] });
    const started = Date.now();
    const { fusion } = await fuse([flaky], judge, { tools: [] });
    expect(fusion.status).toBe("ok");
    expect(fusion.failed_models).toBeUndefined();
    const calls = await e2e.control.requests({ model: flaky });
    expect(calls).toHaveLength(3);
    const [first, second] = calls;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(280);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("panelists that are only rate limited give failure_reason rate_limited", async () => {
    const panel = [uniqueModel("limited")];
    // More 429s than the upstream client retries (UPSTREAM_MAX_RETRIES defaults to 3).
    await e2e.control.script(panel[0] as string, {
      failures: Array.from({ length: 6 }, () => ({ status: 429, retryAfter: 0 })),
    });
    const { fusion } = await fuse(panel, uniqueModel("judge"));
    expect(fusion).toMatchObject({ status: "error", failure_reason: "rate_limited" });
  });

  it("a writer that fails after streaming began ends the stream with an error chunk", async () => {
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { corrupt: "truncated", onlyRoles: ["writer"] });
    const stream = await e2e.client.chat.completions.create({
      model: "openrouter/fusion",
      stream: true,
      messages: [{ role: "user", content: "x" }],
      // @ts-expect-error OpenRouter extension
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: judge }],
    });
    let text = "";
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) {
          seen.push(chunk);
          text += chunk.choices[0]?.delta.content ?? "";
        }
      })(),
    ).rejects.toThrow();
    expect(text.length).toBeGreaterThan(0);
  });

  it("a turn that fails for good before it wrote anything (its conversation gone) ends the stream with an error, not a wait", async () => {
    // No turn runs while the judge workers are down.
    for (const worker of e2e.stack.services.filter((s) => s.name === "judge-worker")) {
      await e2e.stack.kill(worker);
    }
    const res = await e2e.post({
      model: uniqueModel("writer"),
      stream: true,
      messages: [{ role: "user", content: "Is nuclear power cheap?" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")] }],
    });
    expect(res.status).toBe(200);
    const fusionId = res.headers.get("x-fusion-id") ?? "";
    // Its stored conversation expires (or is evicted) before the turn job runs.
    const redis = new Redis(e2e.redis.url);
    try {
      expect(await redis.del(keys.conversation(fusionId))).toBe(1);
    } finally {
      redis.disconnect();
    }
    e2e.stack.spawn("judge-worker", e2e.stack.services.length);

    const frames = await readSseFrames(res);
    const [chunk] = chunksOf(frames);
    expect(chunk?.choices[0]?.finish_reason).toBe("error");
    expect(chunk?.error).toMatchObject({
      status: 500,
      message: expect.stringContaining("is gone (expired)"),
    });
    expect(dataOf(frames).at(-1)).toBe("[DONE]");
    const status = await fetch(`${e2e.stack.baseUrl}/api/v1/fusions/${fusionId}`, {
      headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
    });
    expect(await status.json()).toMatchObject({ status: "failed", error: { code: 500 } });
  });
});
