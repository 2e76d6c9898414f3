import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

const e2e = useStack({
  env: {
    PANEL_TIMEOUT_MS: "1500",
    JUDGE_TIMEOUT_MS: "1500",
    UPSTREAM_HEADERS_TIMEOUT_MS: "5000",
    UPSTREAM_BODY_TIMEOUT_MS: "1500",
    UPSTREAM_MAX_RETRIES: "0",
  },
});

describe("stage deadlines", () => {
  it("when the panel deadline passes, the judge runs with the answers it has and lists the rest as failed", async () => {
    const [fast, slow] = [uniqueModel("fast"), uniqueModel("slow")];
    await e2e.control.script(slow, { latencyMs: 8000 });
    const started = Date.now();
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "x" }],
      plugins: [{ id: "fusion", analysis_models: [fast, slow], model: uniqueModel("judge"), tools: [] }],
    });
    const body = (await res.json()) as {
      fusion: {
        status: string;
        failed_models: string[];
        responses: Array<{ model: string }>;
        breakdown: { panel: Array<{ error?: string }> };
      };
    };
    expect(Date.now() - started).toBeLessThan(6000);
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.responses.map((r) => r.model)).toEqual([fast]);
    expect(body.fusion.failed_models).toEqual([slow]);
    expect(body.fusion.breakdown.panel[1]?.error).toMatch(/panel deadline/);
  });

  it("a judge past its deadline leaves the answers without analysis", async () => {
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { latencyMs: 8000, onlyRoles: ["judge"] });
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "x" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: judge, tools: [] }],
    });
    const body = (await res.json()) as {
      fusion: {
        status: string;
        analysis?: unknown;
        breakdown: { judge: { status: string; error?: string } };
      };
    };
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.analysis).toBeUndefined();
    expect(body.fusion.breakdown.judge).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/judge deadline/),
    });
  });

  it("a writer that sends headers but then goes silent past the idle timeout ends with an error", async () => {
    const judge = uniqueModel("judge");
    await e2e.control.script(judge, { hangMs: 20_000, onlyRoles: ["writer"] });
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "x" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: judge, tools: [] }],
    });
    // The idle gap is a timeout (408), after the turn's one retry.
    expect(res.status).toBe(408);
    expect(await res.json()).toMatchObject({
      error: { code: 408, message: expect.stringMatching(/timeout|timed out/i) },
    });
  }, 30_000);
});
