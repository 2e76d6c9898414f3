import { readSseFrames } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { runPool } from "./support/pool.ts";
import { chunksOf, contentOf } from "./support/sse.ts";

const e2e = useStack({ panelWorkers: 2, judgeWorkers: 2 });

const FUSIONS = 240;
const CONCURRENCY = 24;

describe("soak", () => {
  it(`${FUSIONS} fusions with panelists failing at random: each gets exactly one complete answer or a clear error`, async () => {
    const good = [uniqueModel("good"), uniqueModel("good"), uniqueModel("good")];
    const bad = [uniqueModel("e500"), uniqueModel("e429"), uniqueModel("e400"), uniqueModel("flaky")];
    await e2e.control.script(bad[0] as string, { alwaysFail: { status: 500 } });
    await e2e.control.script(bad[1] as string, { alwaysFail: { status: 429 } });
    await e2e.control.script(bad[2] as string, { alwaysFail: { status: 400 } });
    await e2e.control.script(bad[3] as string, {
      failures: Array.from({ length: 200 }, (_, i) => ({ status: i % 3 ? 502 : 503 })),
    });
    const brokenWriter = uniqueModel("broken-writer");
    await e2e.control.script(brokenWriter, { alwaysFail: { status: 401 }, onlyRoles: ["writer"] });
    const pool = [...good, ...bad];
    // A seeded choice, so a failing run can be replayed.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const plans = Array.from({ length: FUSIONS }, () => ({
      panel: pool.filter(() => random() < 0.4).slice(0, 4),
      stream: random() < 0.5,
      writer: random() < 0.05 ? brokenWriter : uniqueModel("writer"),
    }));
    const started = Date.now();
    const outcomes = await runPool(FUSIONS, CONCURRENCY, async (i) => {
      const plan = plans[i] as (typeof plans)[number];
      const panel = plan.panel.length ? plan.panel : [good[0] as string];
      const res = await e2e.post({
        model: "openrouter/fusion",
        stream: plan.stream,
        messages: [{ role: "user", content: `soak ${i}` }],
        plugins: [{ id: "fusion", analysis_models: panel, model: plan.writer, tools: [] }],
      });
      if (plan.stream) {
        expect(res.status).toBe(200);
        const frames = await readSseFrames(res);
        expect(frames.at(-1)?.data).toBe("[DONE]");
        expect(frames.filter((f) => f.data === "[DONE]")).toHaveLength(1);
        const chunks = chunksOf(frames);
        const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
        expect(finishes).toHaveLength(1);
        if (finishes[0]?.choices[0]?.finish_reason === "error") {
          expect(finishes[0].error?.message).toMatch(/could not answer/);
          return "error";
        }
        expect(contentOf(frames).split("Final answer from").length - 1).toBe(1);
        return "answer";
      }
      const body = (await res.json()) as {
        error?: { code: number; message: string };
        choices?: Array<{ message: { content: string }; finish_reason: string }>;
        usage?: { total_tokens: number };
        fusion?: { status: string };
      };
      if (res.status !== 200) {
        expect(body.error?.code).toBe(res.status);
        expect(body.error?.message).toMatch(/could not answer/);
        return "error";
      }
      expect(body.choices?.[0]?.message.content.split("Final answer from").length).toBe(2);
      expect(body.choices?.[0]?.finish_reason).toBe("stop");
      expect(body.usage?.total_tokens).toBeGreaterThan(0);
      expect(["ok", "error"]).toContain(body.fusion?.status);
      return "answer";
    });
    const answers = outcomes.filter((o) => o === "answer").length;
    const errors = outcomes.filter((o) => o === "error").length;
    expect(answers + errors).toBe(FUSIONS);
    // Only the broken writer turns a fusion into an error; failing panelists never do.
    expect(errors).toBe(plans.filter((p) => p.writer === brokenWriter).length);
    expect(Date.now() - started).toBeLessThan(120_000);
    for (const s of e2e.stack.services) expect(s.child.exitCode).toBeNull();
  }, 180_000);
});
