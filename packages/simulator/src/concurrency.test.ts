import { beforeAll, describe, expect, it } from "vitest";
import { chat, user, useSimulator } from "./test-support.ts";

describe("chat concurrency", () => {
  const sim = useSimulator();
  beforeAll(() => {
    sim.state.setScript("sim/slow", { latencyMs: 150 });
    sim.state.setScript("sim/slow-stream", { tokenDelayMs: 60 });
  });

  it("counts chat requests in flight, the most at once, and nothing else", async () => {
    sim.concurrency.reset();
    const responses = await Promise.all(
      [1, 2, 3].map(() => chat(sim.url, { model: "sim/slow", messages: [user("hi")] })),
    );
    await Promise.all(responses.map((r) => r.text()));
    await fetch(`${sim.url}/_sim/health`);
    expect(sim.concurrency.max).toBe(3);
    await expect.poll(() => sim.concurrency.current).toBe(0);
    sim.concurrency.reset();
    expect(sim.concurrency.max).toBe(0);
  });

  it("counts a streamed response until its body ends", async () => {
    sim.concurrency.reset();
    const res = await chat(sim.url, { model: "sim/slow-stream", stream: true, messages: [user("hi")] });
    expect(sim.concurrency.current).toBe(1);
    await res.text();
    await expect.poll(() => sim.concurrency.current).toBe(0);
    expect(sim.concurrency.max).toBe(1);
  });
});
