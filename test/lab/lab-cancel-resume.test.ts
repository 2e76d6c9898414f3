import { describe, expect, it } from "vitest";
import {
  card,
  finishedFusion,
  PANEL,
  pollUntil,
  region,
  shownPart,
  startFusion,
  textOf,
  useLab,
  waitForEnd,
} from "./support/lab.ts";

/**
 * Cancel and reload in the lab (issue 12): Cancel stops the fusion's upstream calls (seen at the
 * simulator), and a reload mid-fusion reattaches after the last event it applied, so every card and
 * the answer end whole, with no text twice.
 */
const lab = useLab();
const { e2e } = lab;

/** A reply of `n` numbered words naming its model (so that no two replies begin alike). */
const words = (model: string, n: number) =>
  `Reply of ${model}: ${Array.from({ length: n }, (_, i) => `w${String(i + 1).padStart(2, "0")}`).join(" ")}.`;

/** The recorded upstream requests of one fusion (its prompt is in every request of its stages). */
async function requestsFor(prompt: string) {
  return (await e2e.control.requests()).filter((r) => JSON.stringify(r.body).includes(prompt));
}

describe("Cancel", () => {
  it("stops the upstream calls mid-panel and shows the fusion cancelled", async () => {
    // Each panelist would stream its reply for about 6 s.
    for (const model of PANEL) {
      await e2e.control.script(model, {
        reply: words(model, 40),
        tokenDelayMs: 150,
        onlyRoles: ["panelist"],
      });
    }
    const prompt = "Cancel me while the panel writes.";
    const { page, problems } = await lab.open();
    const id = await startFusion(page, prompt);
    const first = card(page, PANEL[0] as string);
    await pollUntil(
      () => shownPart(first, words(PANEL[0] as string, 40)),
      (shown) => shown !== "",
    );
    await expect.poll(() => e2e.sim.concurrency.current, { timeout: 5000 }).toBe(PANEL.length);
    expect(await first.getByText("writing", { exact: true }).count()).toBe(1);

    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await waitForEnd(page, "Cancelled");

    // The workers aborted their calls: nothing is in flight at the simulator, long before the
    // scripted replies would have ended; no judge or writer was ever asked.
    await expect.poll(() => e2e.sim.concurrency.current, { timeout: 2000 }).toBe(0);
    const made = await requestsFor(prompt);
    expect(made.length).toBeGreaterThanOrEqual(PANEL.length);
    expect(made.every((r) => r.role === "panelist")).toBe(true);
    const status = await fetch(`${e2e.stack.baseUrl}/api/v1/fusions/${id}`, {
      headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
    });
    expect(await status.json()).toMatchObject({ id, object: "fusion", status: "cancelled" });
    expect(await page.getByRole("button", { name: "Cancel", exact: true }).isDisabled()).toBe(true);

    // The page runs the next fusion (its replies at once); meanwhile the cancelled one asked for nothing more.
    await e2e.control.clearScripts();
    await startFusion(page, "And now a quick one.");
    await waitForEnd(page, "Done");
    expect((await requestsFor(prompt)).length).toBe(made.length);
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  });
});

describe("a reload mid-fusion", () => {
  it("reattaches after the last applied event: every card's text and the answer once, whole", async () => {
    const replies = PANEL.map((model) => words(model, 30));
    for (const [i, model] of PANEL.entries()) {
      await e2e.control.script(model, { reply: replies[i], tokenDelayMs: 60, onlyRoles: ["panelist"] });
    }
    const { page, problems } = await lab.open();
    const resumes: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/stream")) resumes.push(r.headers()["last-event-id"] ?? "");
    });
    const id = await startFusion(page, "Reload me while the panel writes.");

    // A few words of the first reply are on the page, not all of it: reload now.
    const first = card(page, PANEL[0] as string);
    const before = await pollUntil(
      () => shownPart(first, replies[0] as string),
      (shown) => shown.length > `Reply of ${PANEL[0]}: w01 w02`.length,
    );
    await page.reload();
    expect(before.length).toBeLessThan((replies[0] as string).length);

    await waitForEnd(page, "Done");
    // It reattached with the id of the last event it had applied (not a replay from the start).
    expect(resumes.length).toBeGreaterThan(0);
    expect(resumes[0]).toMatch(/^\d+-\d+$/);

    const fusion = await finishedFusion(e2e, id);
    for (const [i, model] of PANEL.entries()) {
      const reply = replies[i] as string;
      const text = await textOf(card(page, model));
      expect(text.split(reply).length - 1, `${model}: ${text}`).toBe(1);
      expect(text.split(`Reply of ${model}: w01`).length - 1, `${model}: ${text}`).toBe(1);
      expect(await shownPart(card(page, model), reply)).toBe(reply);
      expect(fusion.fusion.responses[i]?.content).toBe(reply);
    }
    const content = fusion.choices[0]?.message.content ?? "";
    expect(content).not.toBe("");
    const answer = (await textOf(region(page, "Answer"))).replace(/\s+/g, " ");
    expect(answer.split(content.replace(/\s+/g, " ")).length - 1).toBe(1);

    // The only errors: the keyless probe for /api/v1/models of each load.
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
    for (const error of problems.consoleErrors) expect(error).toMatch(/401.*\/api\/v1\/models/);
  });
});
