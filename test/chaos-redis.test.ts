import { readSseFrames } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { chunksOf } from "./support/sse.ts";

const e2e = useStack({ ownRedis: true });

const fusion = () => ({
  model: "openrouter/fusion",
  messages: [{ role: "user", content: "x" }],
  plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: uniqueModel("judge"), tools: [] }],
});

describe("Redis goes away and comes back", () => {
  it("answers 503 in the error shape meanwhile, crashes nothing, and resumes by itself", async () => {
    expect((await e2e.post(fusion())).status).toBe(200);
    const pids = e2e.stack.services.map((s) => s.child.pid);

    await e2e.redis.stop();
    const down = await e2e.post(fusion());
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: 503, message: expect.any(String) } });
    // A streaming client already has its headers: its stream ends with a 503 error chunk instead.
    const downStream = await e2e.post({ ...fusion(), stream: true });
    expect(downStream.status).toBe(200);
    const frames = await readSseFrames(downStream);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(chunksOf(frames).at(-1)).toMatchObject({
      error: { status: 503 },
      choices: [{ finish_reason: "error" }],
    });
    await new Promise((r) => setTimeout(r, 1100)); // past the readiness cache
    const ready = await fetch(`${e2e.stack.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ error: { code: 503 } });
    // Liveness does not depend on Redis, so an orchestrator does not restart a healthy process.
    expect((await fetch(`${e2e.stack.baseUrl}/healthz`)).status).toBe(200);

    // A few seconds without Redis: every process stays up (no crash, no crash loop).
    await new Promise((r) => setTimeout(r, 3000));
    for (const s of e2e.stack.services) expect(s.child.exitCode).toBeNull();

    await e2e.redis.restart();
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline) {
      const res = await e2e.post(fusion());
      status = res.status;
      if (status === 200) {
        const body = (await res.json()) as { fusion: { status: string } };
        expect(body.fusion.status).toBe("ok");
        break;
      }
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe(200);
    expect(e2e.stack.services.map((s) => s.child.pid)).toEqual(pids);
    expect((await fetch(`${e2e.stack.baseUrl}/readyz`)).status).toBe(200);
  });
});
