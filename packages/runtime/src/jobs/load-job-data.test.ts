import { storedPanelJobSchema, storedTurnJobSchema } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { withProgressLevel } from "./load-job-data.ts";

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
