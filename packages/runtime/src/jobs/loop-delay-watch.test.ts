import { describe, expect, it } from "vitest";
import { watchLoopDelay } from "./loop-delay-watch.ts";

const block = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // keeps the event loop busy
  }
};

const nextCheck = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("watchLoopDelay", () => {
  it("warns with the largest delay when the loop was blocked past a quarter of the lock", async () => {
    const warnings: Array<{ obj: { delayMs?: number; lockMs?: number }; msg: string }> = [];
    const stop = watchLoopDelay(
      { warn: (obj, msg) => warnings.push({ obj, msg }) },
      { lockMs: 400, sampleMs: 20, warnEveryMs: 0 },
    );
    try {
      await nextCheck(10);
      block(250);
      await nextCheck(120);
    } finally {
      stop();
    }
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]?.msg).toBe("event loop delayed: job locks at risk");
    expect(warnings[0]?.obj.lockMs).toBe(400);
    expect(warnings[0]?.obj.delayMs).toBeGreaterThanOrEqual(100);
  });

  it("stays quiet while the loop keeps up", async () => {
    const warnings: unknown[] = [];
    const stop = watchLoopDelay({ warn: (obj) => warnings.push(obj) }, { lockMs: 60_000, sampleMs: 20 });
    await nextCheck(100);
    stop();
    expect(warnings).toEqual([]);
  });
});
