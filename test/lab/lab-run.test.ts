import { describe, expect, it } from "vitest";
import {
  card,
  costText,
  dollars,
  duration,
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
import { citingReplies, PROMPT } from "./support/replies.ts";

/**
 * The lab runs a fusion of three panelists and shows every stage (issue 12), in Debian's Chromium
 * against the real services and the simulator: each card's text as it streams and its tool calls,
 * the analysis, the answer with citation links that work, the timeline and the cost of each stage.
 */
const lab = useLab();
const { e2e } = lab;

describe("a fusion in the lab", () => {
  it("fills every card with streamed text and tool calls, the analysis, the answer with working citations, the timeline and costs", async () => {
    const REPLIES = await citingReplies(e2e);
    for (const [i, model] of PANEL.entries()) {
      await e2e.control.script(model, { reply: REPLIES[i], tokenDelayMs: 40, onlyRoles: ["panelist"] });
    }
    const { page, problems } = await lab.open();
    const id = await startFusion(page, PROMPT);

    // The first card's text grows while it streams: a part of the reply, then more of it.
    const first = card(page, PANEL[0] as string);
    const reply = REPLIES[0] as string;
    const earlier = await pollUntil(
      () => shownPart(first, reply),
      (shown) => shown !== "",
    );
    expect(earlier.length).toBeLessThan(reply.length);
    const later = await pollUntil(
      () => shownPart(first, reply),
      (shown) => shown.length > earlier.length,
    );
    expect(later.startsWith(earlier)).toBe(true);

    await waitForEnd(page, "Done");
    const fusion = await finishedFusion(e2e, id);

    // Every card: done, its web search with the query it sent, its whole reply, its figures.
    for (const [i, model] of PANEL.entries()) {
      const c = card(page, model);
      await expect.poll(() => c.getByText("done", { exact: true }).count()).toBe(1);
      const calls = c.getByRole("list", { name: "Tool calls" }).getByRole("listitem");
      expect(await calls.count()).toBe(1);
      expect(await textOf(calls)).toMatch(/^web_search /);
      expect(await textOf(calls)).toContain(PROMPT);
      expect(await shownPart(c, REPLIES[i] as string)).toBe(REPLIES[i]);
      expect(fusion.fusion.responses[i]).toEqual({ model, content: REPLIES[i] });
      const figures = await textOf(c);
      expect(figures).toMatch(/Latency\s+\d/);
      expect(figures).toMatch(/Tokens\s+\d/);
      expect(figures).toContain(costText(fusion.fusion.breakdown.panel[i]?.usage.cost as number));
    }

    // The analysis: its five sections, each holding what the judge found.
    const analysis = region(page, "Analysis");
    expect(await analysis.getByRole("heading", { level: 3 }).allInnerTexts()).toEqual([
      "Consensus",
      "Contradictions",
      "Partial coverage",
      "Unique insights",
      "Blind spots",
    ]);
    const judged = fusion.fusion.analysis;
    expect(judged).toBeDefined();
    const analysisText = await textOf(analysis);
    const points = [
      ...(judged?.consensus ?? []),
      ...(judged?.contradictions ?? []).flatMap((c) => [c.topic, ...c.stances.map((s) => s.stance)]),
      ...(judged?.partial_coverage ?? []).map((p) => p.point),
      ...(judged?.unique_insights ?? []).map((u) => u.insight),
      ...(judged?.blind_spots ?? []),
    ];
    expect(points.length).toBeGreaterThanOrEqual(5);
    for (const point of points) expect(analysisText).toContain(point);

    // The answer: the writer's text, its citations numbered, each a link to a source of the fusion.
    const answer = region(page, "Answer");
    const content = fusion.choices[0]?.message.content ?? "";
    expect(content).not.toBe("");
    expect((await textOf(answer)).replace(/\s+/g, " ")).toContain(content.replace(/\s+/g, " "));
    const sources = fusion.fusion.sources.map((s) => s.url);
    const cited = (fusion.choices[0]?.message.annotations ?? []).map((a) => a.url_citation);
    expect(cited.length).toBeGreaterThan(0);
    const citations = answer.getByRole("list", { name: "Citations" }).getByRole("link");
    expect(await citations.count()).toBe(cited.length);
    for (const [i, citation] of cited.entries()) {
      const link = citations.nth(i);
      expect(await textOf(link)).toBe(`[${i + 1}] ${citation.title}`);
      expect(await link.getAttribute("href")).toBe(citation.url);
      expect(sources).toContain(citation.url);
    }
    // A citation opens its source, by mouse and by keyboard.
    const link = citations.first();
    const href = (await link.getAttribute("href")) as string;
    for (const activate of [
      () => link.click(),
      () => link.focus().then(() => page.keyboard.press("Enter")),
    ]) {
      const [opened] = await Promise.all([page.context().waitForEvent("page"), activate()]);
      await opened.waitForLoadState();
      expect(opened.url()).toBe(href);
      expect(await opened.content()).toContain("</html>");
      await opened.close();
    }
    // Links in the answer's text go to sources too.
    const inText = await answer.getByRole("paragraph").getByRole("link").all();
    expect(inText.length).toBeGreaterThan(0);
    for (const a of inText) expect(sources).toContain(await a.getAttribute("href"));

    // The timeline: every panelist with its search, the judge, the writer, on one axis.
    const rows = await region(page, "Timeline").getByRole("listitem").allInnerTexts();
    const startOf = (label: string) => {
      const row = rows.find((r) => r.startsWith(label));
      expect(row, `${label} in ${rows.join(" | ")}`).toBeDefined();
      return duration((row as string).slice((row as string).lastIndexOf(" at ")));
    };
    const panelStarts = PANEL.map((model) => startOf(`Panel: ${model}`));
    // Each panelist's search and the judge's (it searches the request it is given too).
    expect(rows.filter((r) => r.startsWith(`web_search: ${PROMPT}`))).toHaveLength(PANEL.length + 1);
    const judgeStart = startOf(`Judge: ${PANEL[0]}`);
    const writerStart = startOf("Writer: ");
    expect(Math.max(...panelStarts)).toBeLessThan(judgeStart);
    expect(judgeStart).toBeLessThan(writerStart);

    // Cost per stage: three panelists, the judge and the writer, adding up to the total and to usage.
    const costs = region(page, "Timeline").getByRole("table", { name: "Cost per stage" });
    const stageRows = await costs
      .getByRole("row")
      .filter({ hasText: /^(Panelist \d|Judge|Writer)\b/ })
      .allInnerTexts();
    expect(stageRows.map((r) => r.split(/\s/)[0])).toEqual([
      "Panelist",
      "Panelist",
      "Panelist",
      "Judge",
      "Writer",
    ]);
    const sum = stageRows.map(dollars).reduce((a, b) => a + b, 0);
    const total = dollars(await textOf(costs.getByRole("row", { name: /^Total/ })));
    expect(Math.abs(sum - total)).toBeLessThan(1e-6 * stageRows.length);
    expect(costText(total)).toBe(costText(fusion.usage.cost));
    expect(await textOf(answer)).toContain(costText(fusion.usage.cost));

    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  });
});
