import { Redis } from "ioredis";
import { describe, expect, it, vi } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

// A short resume grace, so that a disconnect cancels soon (the streams suite covers resuming).
const e2e = useStack({ env: { RESUME_GRACE_MS: "200" } });

const user = [{ role: "user", content: "hi" }];
const fusionPlugin = (fields: Record<string, unknown>) => ({
  model: "openrouter/fusion",
  messages: user,
  plugins: [{ id: "fusion", ...fields }],
});

describe("authentication", () => {
  it("rejects a missing or wrong key with 401 in the error shape", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "Basic abc" }]) {
      const res = await fetch(`${e2e.stack.baseUrl}/api/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "x", messages: user }),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 401, message: expect.any(String) } });
    }
    const v1 = await fetch(`${e2e.stack.baseUrl}/v1/models`);
    expect(v1.status).toBe(401);
  });

  it("accepts a valid key on both prefixes and leaves health checks open", async () => {
    const headers = { authorization: `Bearer ${e2e.stack.apiKey}` };
    expect((await fetch(`${e2e.stack.baseUrl}/v1/models`, { headers })).status).toBe(200);
    expect((await fetch(`${e2e.stack.baseUrl}/api/v1/models`, { headers })).status).toBe(200);
    expect((await fetch(`${e2e.stack.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${e2e.stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", workers: { panel: 1, judge: 1 } });
  });
});

describe("invalid requests", () => {
  const cases: Array<[string, unknown]> = [
    ["body is not JSON", "{not json"],
    ["body is a JSON array", "[]"],
    ["model missing", { messages: user }],
    ["model empty", { model: "", messages: user }],
    ["model not a string", { model: 42, messages: user }],
    ["messages missing", { model: "m" }],
    ["messages empty", { model: "m", messages: [] }],
    ["message with an unknown role", { model: "m", messages: [{ role: "robot", content: "x" }] }],
    ["stream not a boolean", { model: "m", messages: user, stream: "yes" }],
    ["temperature out of range", { model: "m", messages: user, temperature: 5 }],
    ["n above 1", { model: "m", messages: user, n: 3 }],
    ["analysis_models empty", fusionPlugin({ analysis_models: [] })],
    [
      "analysis_models with 9 models",
      fusionPlugin({ analysis_models: Array.from({ length: 9 }, (_, i) => `m${i}`) }),
    ],
    ["analysis_models not strings", fusionPlugin({ analysis_models: [1, 2] })],
    ["analysis_models holding the alias", fusionPlugin({ analysis_models: ["openrouter/fusion"] })],
    ["max_tool_calls 0", fusionPlugin({ max_tool_calls: 0 })],
    ["max_tool_calls 17", fusionPlugin({ max_tool_calls: 17 })],
    ["max_tool_calls fractional", fusionPlugin({ max_tool_calls: 2.5 })],
    ["max_tool_calls as a string", fusionPlugin({ max_tool_calls: "8" })],
    ["unknown preset", fusionPlugin({ preset: "general-ultra" })],
    ["enabled as a string", fusionPlugin({ enabled: "false" })],
    ["plugin temperature out of range", fusionPlugin({ temperature: 2.5 })],
    ["judge model not a string", fusionPlugin({ model: ["a"] })],
    [
      "server tool with bad parameters",
      {
        model: "m",
        messages: user,
        tools: [{ type: "openrouter:fusion", parameters: { analysis_models: "x" } }],
      },
    ],
    ["tool of an unknown shape", { model: "m", messages: user, tools: [{ type: "mystery" }] }],
    ["tool_choice of an unknown kind", { model: "m", messages: user, tool_choice: "sometimes" }],
  ];

  it.each(cases)("%s → 400 in the error shape, nothing sent upstream", async (_name, body) => {
    await e2e.control.clearRequests();
    const res = await e2e.post(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: number; message: string } };
    expect(json.error.code).toBe(400);
    expect(json.error.message.length).toBeGreaterThan(5);
    expect(await e2e.control.requests()).toHaveLength(0);
  });

  it("an unknown route is 404 in the error shape", async () => {
    const res = await fetch(`${e2e.stack.baseUrl}/api/v1/nothing`, {
      headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 404 } });
  });
});

describe("cancellation", () => {
  it("a client that disconnects cancels its fusion: no further upstream calls, no job left waiting", async () => {
    const slow = uniqueModel("slow");
    const judge = uniqueModel("judge");
    await e2e.control.script(slow, { latencyMs: 1500 });
    const controller = new AbortController();
    const response = await fetch(`${e2e.stack.baseUrl}/api/v1/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", authorization: `Bearer ${e2e.stack.apiKey}` },
      body: JSON.stringify({
        model: "openrouter/fusion",
        stream: true,
        messages: [{ role: "user", content: "cancel me" }],
        plugins: [{ id: "fusion", analysis_models: [slow], model: judge, tools: [] }],
      }),
    });
    const fusionId = response.headers.get("x-fusion-id");
    expect(fusionId).toMatch(/^gen-fusion-/);
    await response.body?.getReader().read(); // the first keep-alive frame: the fusion is under way
    // Cancel while the panelist's upstream request is in flight.
    await vi.waitFor(async () => expect(await e2e.control.requests({ model: slow })).toHaveLength(1), {
      timeout: 10_000,
      interval: 25,
    });
    controller.abort();

    // The turn job ends (it is not left waiting for children) once the aborted panelist returns.
    const redis = new Redis(e2e.redis.url);
    const deadline = Date.now() + 10_000;
    let finishedOn: string | null = null;
    while (!finishedOn && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      finishedOn = await redis.hget(`${e2e.stack.prefix}:turn:${fusionId}`, "finishedOn");
    }
    redis.disconnect();
    expect(finishedOn).not.toBeNull();
    // The panelist's request was aborted rather than awaited: the job finished before its 1.5 s answer was due.
    // Neither the judge nor the writer was ever called.
    expect(await e2e.control.requests({ model: judge })).toHaveLength(0);
    expect(await e2e.control.requests({ model: slow })).toHaveLength(1);
    expect(e2e.stack.logs).toMatch(/client went away: cancelling the fusion/);
  });
});
