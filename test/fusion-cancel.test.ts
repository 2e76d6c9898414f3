import { readSseFrames } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { chunksOf, contentOf } from "./support/sse.ts";

/**
 * `POST /api/v1/fusions/{id}/cancel` (issue 12): the fusion stops as it does when its client leaves
 * (the workers abort their upstream calls: asserted on the simulator's in-flight requests and request
 * counts), its stream ends for whoever reads it, only its key may cancel it, and a finished fusion is
 * left as it is.
 */
const OTHER_KEY = "sk-cancel-other-0123456789";
const e2e = useStack({ gateways: 2, extraApiKeys: [OTHER_KEY] });

const headers = (key = e2e.stack.apiKey) => ({
  "content-type": "application/json",
  authorization: `Bearer ${key}`,
});

function post(body: unknown, gateway = 0): Promise<Response> {
  return fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/chat/completions`, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify(body),
  });
}

function cancel(fusionId: string, key = e2e.stack.apiKey, gateway = 1): Promise<Response> {
  return fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/fusions/${fusionId}/cancel`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}` },
  });
}

async function state(fusionId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/fusions/${fusionId}`, { headers: headers() });
  return (await res.json()) as Record<string, unknown>;
}

function fusion(panel: string[], judge: string, extra: Record<string, unknown> = {}) {
  return {
    model: "openrouter/fusion",
    messages: [{ role: "user", content: "take your time" }],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge, tools: [] }],
    ...extra,
  };
}

/** Chat requests in flight at the simulator's socket for these models (every other test's are done). */
const inFlight = () => e2e.sim.concurrency.current;
const calls = async (models: string[]) =>
  (await Promise.all(models.map((model) => e2e.control.requests({ model })))).flat().length;

describe("POST /api/v1/fusions/{id}/cancel", () => {
  it("stops a running fusion's upstream calls and ends its stream with a cancelled error", async () => {
    const panel = [uniqueModel("slow-a"), uniqueModel("slow-b")];
    const judge = uniqueModel("judge");
    for (const model of panel) await e2e.control.script(model, { latencyMs: 20_000 });
    const res = await post(
      fusion(panel, judge, { stream: true, fusion: { progress: "full", resume_grace_ms: 30_000 } }),
    );
    const fusionId = res.headers.get("x-fusion-id") as string;
    const reading = readSseFrames(res);
    // Both panelists are waiting on the upstream.
    await expect.poll(inFlight, { timeout: 10_000 }).toBe(2);

    const cancelled = await cancel(fusionId);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toEqual({
      id: fusionId,
      object: "fusion",
      created: expect.any(Number),
      status: "cancelled",
      model: "openrouter/fusion",
      models: panel,
      judge,
      prompt: "take your time",
      cost: null,
    });

    // The workers aborted their calls: nothing is in flight at the simulator, and no call follows.
    await expect.poll(inFlight, { timeout: 3000 }).toBe(0);
    const made = await calls([...panel, judge]);
    expect(made).toBe(2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await calls([...panel, judge])).toBe(made);

    // The stream that was open ended: an error chunk naming the cancel, then [DONE].
    const frames = await reading;
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(chunksOf(frames).at(-1)).toMatchObject({
      id: fusionId,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      error: { code: "cancelled", status: 499, message: "the fusion was cancelled" },
    });
    expect(await state(fusionId)).toMatchObject({ id: fusionId, object: "fusion", status: "cancelled" });

    // A resume gets the same end at once.
    const resumed = await readSseFrames(
      await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/fusions/${fusionId}/stream`, { headers: headers() }),
    );
    expect(resumed.at(-1)?.data).toBe("[DONE]");
    expect(chunksOf(resumed).at(-1)?.error).toMatchObject({ status: 499 });

    // Cancelling again changes nothing.
    expect(await (await cancel(fusionId, e2e.stack.apiKey, 0)).json()).toMatchObject({ status: "cancelled" });
  });

  it("answers a non-streaming request waiting for its fusion with 499 in the error shape (found through the listing)", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 20_000 });
    const waiting = post(fusion([slow], uniqueModel("judge")));
    await expect.poll(inFlight, { timeout: 10_000 }).toBe(1);
    const listed = (await (
      await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions?limit=1`, { headers: headers() })
    ).json()) as { data: Array<{ id: string; status: string; models: string[] }> };
    const [running] = listed.data;
    // Without a stream its progress is not written: it reads queued until it ends, as GET /fusions/{id} does.
    expect(running).toMatchObject({ status: "queued", models: [slow] });
    expect((await cancel(running?.id as string)).status).toBe(200);

    const res = await waiting;
    expect(res.status).toBe(499);
    expect(await res.json()).toMatchObject({ error: { code: 499, message: "the fusion was cancelled" } });
    await expect.poll(inFlight, { timeout: 3000 }).toBe(0);
  });

  it("is 404 to another key, which cannot stop the fusion", async () => {
    const panelist = uniqueModel("p");
    await e2e.control.script(panelist, { latencyMs: 800 });
    const judge = uniqueModel("judge");
    const res = await post(fusion([panelist], judge, { stream: true }));
    const fusionId = res.headers.get("x-fusion-id") as string;
    const refused = await cancel(fusionId, OTHER_KEY);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: 404 } });
    expect((await cancel("gen-fusion-unknown")).status).toBe(404);

    const frames = await readSseFrames(res);
    expect(contentOf(frames)).toContain(`Final answer from ${judge}`);
    expect(await state(fusionId)).toMatchObject({ object: "chat.completion" });
  });

  it("leaves a finished fusion as it is and answers its status", async () => {
    const judge = uniqueModel("judge");
    const res = await post(fusion([uniqueModel("p")], judge));
    const completion = (await res.json()) as { id: string; usage: { cost: number } };
    const answered = await cancel(completion.id);
    expect(answered.status).toBe(200);
    const body = (await answered.json()) as { status: string; cost: number };
    expect(body).toMatchObject({ id: completion.id, object: "fusion", status: "completed" });
    expect(body.cost).toBeCloseTo(completion.usage.cost, 9);
    // Still the completion, and its stream still ends with the answer.
    expect(await state(completion.id)).toMatchObject({ id: completion.id, object: "chat.completion" });
    const replay = await readSseFrames(
      await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/fusions/${completion.id}/stream`, {
        headers: headers(),
      }),
    );
    expect(contentOf(replay)).toContain(`Final answer from ${judge}`);
    expect(chunksOf(replay).some((c) => c.error)).toBe(false);
  });
});
