import { describe, expect, it } from "vitest";
import {
  card,
  costText,
  dollars,
  duration,
  finishedFusion,
  PANEL,
  region,
  shownPart,
  startFusion,
  textOf,
  useLab,
  waitForEnd,
} from "./support/lab.ts";

/**
 * History and Compare in the lab (issue 12): a new page with the same key lists the key's fusions
 * and reopening one replays it whole; a fusion run beside a single model shows both answers with
 * their latency and cost.
 */
const lab = useLab();
const { e2e } = lab;

describe("History", () => {
  it("lists a finished fusion on a new page with the same key, and reopening it replays it", async () => {
    const prompt = "What did the panel say last time?";
    const first = await lab.open();
    const id = await startFusion(first.page, prompt);
    await waitForEnd(first.page, "Done");
    const fusion = await finishedFusion(e2e, id);

    // A new page (fresh storage): nothing shown, the fusion in "History".
    const { page, problems } = await lab.open();
    const streams: Array<{ url: string; lastEventId: string | undefined }> = [];
    page.on("request", (r) => {
      if (r.url().includes("/stream"))
        streams.push({ url: r.url(), lastEventId: r.headers()["last-event-id"] });
    });
    expect(await region(page, "Panel").getByRole("article").count()).toBe(0);
    const entry = region(page, "History").getByRole("link", { name: new RegExp(prompt.replace("?", "\\?")) });
    await entry.waitFor();
    expect(await textOf(entry)).toMatch(/completed · .* · 3 models · \$\d/);
    expect(await textOf(entry)).toContain(costText(fusion.usage.cost));

    await entry.focus();
    await page.keyboard.press("Enter");
    await waitForEnd(page, "Done");
    // Replayed from the start of its stream.
    expect(streams).toEqual([
      { url: expect.stringContaining(`/api/v1/fusions/${id}/stream`), lastEventId: undefined },
    ]);

    for (const [i, model] of PANEL.entries()) {
      const content = fusion.fusion.responses[i]?.content as string;
      expect(content).toContain("Answer from");
      const c = card(page, model);
      expect(await shownPart(c, content)).toBe(content);
      expect(await c.getByText("done", { exact: true }).count()).toBe(1);
      expect(await textOf(c.getByRole("list", { name: "Tool calls" }))).toContain(prompt);
    }
    const analysis = await textOf(region(page, "Analysis"));
    for (const point of fusion.fusion.analysis?.consensus ?? []) expect(analysis).toContain(point);
    expect(analysis).toContain(fusion.fusion.analysis?.blind_spots[0]);
    const answer = await textOf(region(page, "Answer"));
    expect(answer.replace(/\s+/g, " ")).toContain(fusion.choices[0]?.message.content.replace(/\s+/g, " "));
    expect(answer).toContain(costText(fusion.usage.cost));
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  });
});

describe("Compare", () => {
  it("shows the fusion's answer and the single model's side by side, with latency and cost", async () => {
    const single = PANEL[1] as string;
    const alone = "Alone, I would say: ridge for many small effects, lasso for a few large ones.";
    await e2e.control.script(single, { reply: alone, onlyRoles: ["plain"] });
    const { page, problems } = await lab.open();
    await page.getByRole("checkbox", { name: "Compare with a single model" }).check();
    await page.getByRole("combobox", { name: "Compare model" }).selectOption(single);
    const id = await startFusion(page, "Ridge or lasso, in one sentence?");
    await waitForEnd(page, "Done");
    const compare = region(page, "Compare");
    await compare.getByText(/alone: done$/).waitFor();
    const fusion = await finishedFusion(e2e, id);
    const [plain] = await e2e.control.requests({ model: single, role: "plain" });
    const singleCost = plain?.usage?.cost as number;
    expect(singleCost).toBeGreaterThan(0);

    // Both answers on the page, side by side at 1280 px.
    expect(await textOf(compare)).toContain(alone);
    const answer = await textOf(region(page, "Answer"));
    expect(answer.replace(/\s+/g, " ")).toContain(fusion.choices[0]?.message.content.replace(/\s+/g, " "));
    const [left, right] = await Promise.all([region(page, "Answer").boundingBox(), compare.boundingBox()]);
    expect(Math.abs((left?.y ?? 0) - (right?.y ?? 1))).toBeLessThan(2);
    expect((left?.x ?? 0) + (left?.width ?? 0)).toBeLessThanOrEqual(right?.x ?? 0);

    // Their latency and cost, in one table.
    const table = compare.getByRole("table", { name: "Latency and cost" });
    const fusionRow = await textOf(table.getByRole("row", { name: /^Fusion/ }));
    const singleRow = await textOf(table.getByRole("row", { name: /^Single model/ }));
    // The model as its answer names itself (the simulator's concrete model behind the alias).
    expect(singleRow).toMatch(/^Single model\s+openai\/gpt/);
    expect(duration(fusionRow)).toBeGreaterThan(0);
    expect(duration(singleRow)).toBeGreaterThan(0);
    expect(dollars(fusionRow)).toBe(dollars(costText(fusion.usage.cost)));
    expect(dollars(singleRow)).toBe(dollars(costText(singleCost)));
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  });
});
