import { readSseFrames } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { chunksOf, contentOf } from "./support/sse.ts";

// Short locks, so that a job whose worker died is found and run again within a few seconds.
const e2e = useStack({
  env: { WORKER_LOCK_MS: "2000", WORKER_STALLED_INTERVAL_MS: "1000", WORKER_SHUTDOWN_GRACE_MS: "10000" },
});

const alive = (name: string) =>
  e2e.stack.services.filter(
    (s) => s.name === name && s.child.exitCode === null && s.child.signalCode === null,
  );

/** Kills (SIGKILL) the only running service of a kind and starts a replacement, as a supervisor would. */
async function killAndReplace(name: "panel-worker" | "judge-worker"): Promise<void> {
  const [victim] = alive(name);
  if (!victim) throw new Error(`no ${name} running`);
  await e2e.stack.kill(victim, "SIGKILL");
  e2e.stack.spawn(name, e2e.stack.services.length);
}

async function waitForRequest(model: string, role?: "writer" | "judge", count = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await e2e.control.requests({ model, ...(role ? { role } : {}) })).length >= count) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no request for ${model}`);
}

const fuse = (panel: string[], judge: string, stream: boolean) =>
  e2e.post({
    model: "openrouter/fusion",
    stream,
    messages: [{ role: "user", content: "survive this" }],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge, tools: [] }],
  });

describe("workers killed in the middle of a job", () => {
  it("a panel worker killed mid-job: another runs the job again and the fusion completes", async () => {
    const slow = uniqueModel("slow");
    const judge = uniqueModel("judge");
    await e2e.control.script(slow, { latencyMs: 1200 });
    const pending = fuse([slow], judge, false);
    await waitForRequest(slow);
    await killAndReplace("panel-worker");
    const res = await pending;
    const body = (await res.json()) as {
      fusion: { status: string; failed_models?: string[]; analysis?: unknown };
    };
    expect(body.fusion).toMatchObject({ status: "ok" });
    expect(body.fusion.failed_models).toBeUndefined();
    expect(body.fusion.analysis).toBeDefined();
    expect(await e2e.control.requests({ model: slow })).toHaveLength(2);
  });

  it("a judge worker killed while judging: the judge runs again and the fusion completes", async () => {
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { latencyMs: 1200, onlyRoles: ["judge"] });
    const pending = fuse([uniqueModel("p")], judge, false);
    await waitForRequest(judge, "judge");
    await killAndReplace("judge-worker");
    const body = (await (await pending).json()) as { fusion: { status: string; analysis?: unknown } };
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.analysis).toBeDefined();
    expect(await e2e.control.requests({ model: judge, role: "judge" })).toHaveLength(2);
  });

  it("a writer whose worker dies before any text is retried invisibly", async () => {
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { latencyMs: 1200, onlyRoles: ["writer"] });
    const pending = fuse([uniqueModel("p")], judge, true);
    await waitForRequest(judge, "writer");
    await killAndReplace("judge-worker");
    const frames = await readSseFrames(await pending);
    const chunks = chunksOf(frames);
    expect(chunks.some((c) => c.error)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason ?? chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    const text = contentOf(frames);
    expect(text.match(/Final answer from/g)).toHaveLength(1);
    expect(frames.at(-1)?.data).toBe("[DONE]");
  });

  it("a writer whose worker dies after sending text ends the stream with an error chunk, never repeating text", async () => {
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { tokenDelayMs: 150, onlyRoles: ["writer"] });
    const res = await fuse([uniqueModel("p")], judge, true);
    let killed = false;
    const frames = await readSseFrames(res, (fs) => {
      if (!killed && contentOf(fs).length > 0) {
        killed = true;
        void killAndReplace("judge-worker");
      }
      return undefined;
    });
    const chunks = chunksOf(frames);
    const last = chunks.at(-1);
    expect(last?.choices[0]?.finish_reason).toBe("error");
    expect(last?.error?.message).toMatch(/stopped after part of it was sent/);
    // What was sent is the start of one answer: the first token once, nothing sent again.
    const text = contentOf(frames);
    expect(text.startsWith("Final ")).toBe(true);
    expect(text.split("Final").length - 1).toBe(1);
    expect(
      `Final answer from ${judge}. Consensus`.startsWith(text) ||
        text.startsWith(`Final answer from ${judge}`),
    ).toBe(true);
    expect(frames.at(-1)?.data).toBe("[DONE]");
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM to a panel worker lets its active job finish before it exits", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 1000 });
    const pending = fuse([slow], uniqueModel("judge"), false);
    await waitForRequest(slow);
    const [worker] = alive("panel-worker");
    if (!worker) throw new Error("no panel worker");
    const exited = new Promise<number | null>((resolve) =>
      worker.child.once("exit", (code) => resolve(code)),
    );
    worker.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    e2e.stack.spawn("panel-worker", e2e.stack.services.length);
    const body = (await (await pending).json()) as { fusion: { status: string; failed_models?: string[] } };
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.failed_models).toBeUndefined();
    // It finished the job itself: the upstream was asked once, not again by another worker.
    expect(await e2e.control.requests({ model: slow })).toHaveLength(1);
  });

  it("SIGTERM to the gateway lets an open stream finish, then it exits", async () => {
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { tokenDelayMs: 60, onlyRoles: ["writer"] });
    const res = await fuse([uniqueModel("p")], judge, true);
    const [gateway] = alive("gateway");
    if (!gateway) throw new Error("no gateway");
    const exited = new Promise<number | null>((resolve) =>
      gateway.child.once("exit", (code) => resolve(code)),
    );
    let signalled = false;
    const frames = await readSseFrames(res, (fs) => {
      if (!signalled && contentOf(fs).length > 0) {
        signalled = true;
        gateway.child.kill("SIGTERM");
      }
      return undefined;
    });
    expect(signalled).toBe(true);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(chunksOf(frames).some((c) => c.error)).toBe(false);
    expect(contentOf(frames)).toContain(`Final answer from ${judge}`);
    expect(await exited).toBe(0);
    // It takes no new requests once it is gone.
    await expect(fetch(`http://127.0.0.1:${gateway.port}/healthz`)).rejects.toThrow();
  });
});
