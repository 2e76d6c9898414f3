import { describe, expect, it } from "vitest";
import {
  card,
  finishedFusion,
  PANEL,
  region,
  startFusion,
  textOf,
  useLab,
  waitForEnd,
} from "./support/lab.ts";

/**
 * Failures shown plainly (issue 12): a panelist whose provider refuses shows why on its card while
 * the others answer; when every panelist fails, the analysis says so and the answer still comes.
 */
const lab = useLab();
const { e2e } = lab;

describe("failures in the lab", () => {
  it("shows a failed panelist's reason on its card; the rest of the fusion goes on", async () => {
    const failing = PANEL[2] as string;
    await e2e.control.script(failing, {
      alwaysFail: { status: 400, message: "this model is not available in your region" },
      onlyRoles: ["panelist"],
    });
    const { page, problems } = await lab.open();
    const id = await startFusion(page, "Which panelist fails?");
    await waitForEnd(page, "Done");
    const fusion = await finishedFusion(e2e, id);
    expect(fusion.fusion.failed_models).toEqual([failing]);

    const failed = card(page, failing);
    const status = failed.getByText(/^failed: /);
    expect(await status.count()).toBe(1);
    expect(await textOf(status)).toContain("this model is not available in your region");
    for (const model of PANEL.slice(0, 2)) {
      expect(await card(page, model).getByText("done", { exact: true }).count()).toBe(1);
    }
    const analysis = region(page, "Analysis");
    expect(await textOf(analysis)).toContain(`Failed models: ${failing}`);
    expect(await analysis.getByRole("heading", { name: "Consensus" }).count()).toBe(1);
    expect(await textOf(region(page, "Answer"))).toContain(fusion.choices[0]?.message.content);
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  });

  it("shows the fallback when every panelist fails: no analysis, said plainly, and the writer's answer", async () => {
    for (const model of PANEL) {
      await e2e.control.script(model, {
        alwaysFail: { status: 400, message: `${model} refused` },
        onlyRoles: ["panelist"],
      });
    }
    const { page, problems } = await lab.open();
    const id = await startFusion(page, "Does anyone answer?");
    await waitForEnd(page, "Done");
    const fusion = await finishedFusion(e2e, id);
    expect(fusion.fusion).toMatchObject({ status: "error" });

    for (const model of PANEL) {
      expect(await textOf(card(page, model).getByText(/^failed: /))).toContain(`${model} refused`);
    }
    const analysis = region(page, "Analysis");
    expect(await textOf(analysis)).toContain(
      "All panels failed: no panelist answered, so there is nothing to compare and no analysis.",
    );
    expect(await analysis.getByRole("heading", { name: "Consensus" }).count()).toBe(0);
    const content = fusion.choices[0]?.message.content ?? "";
    expect(content).toContain("all_panels_failed");
    expect(await textOf(region(page, "Answer"))).toContain(content);
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  });
});
