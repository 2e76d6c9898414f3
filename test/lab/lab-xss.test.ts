import { describe, expect, it } from "vitest";
import { card, JUDGE, PANEL, region, startFusion, textOf, useLab, waitForEnd } from "./support/lab.ts";

/**
 * Model text is data, never code (issue 12): a panelist's reply and the writer's answer holding
 * `<img onerror>`, `<script>`, event handlers and `javascript:` links run nothing in the lab: no flag
 * set, no dialog, no CSP violation, no console error, and no handler or script element in the page.
 */
const lab = useLab();
const { e2e } = lab;

/** Each payload, if it ran, would set a flag (and open a dialog). */
const HOSTILE = [
  "Hostile <img src=x onerror=\"window.__pwned='img';alert('img')\">",
  "<script>window.__pwned='script';alert('script')</script>",
  "<svg onload=\"window.__pwned='svg'\"></svg>",
  '<a href="https://example.org" onclick="window.__pwned=\'click\'">a link</a>',
  "[click me](javascript:window.__pwned='js-link')",
  '[titled](https://example.org/t "t\\" onmouseover=\\"window.__pwned=\'title\'")',
  "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>",
  "**bold** `<b onmouseover=alert(1)>`",
].join(" ");

/** What the scan below reads of an element (the test program has no DOM types). */
interface ScannedElement {
  localName: string;
  outerHTML: string;
  getAttributeNames(): string[];
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<ScannedElement>;
}

/**
 * Runs in the page: every element under `root` (itself included) that runs or loads something, every
 * `on*` attribute and every `javascript:` URL.
 */
function findActiveContent(node: unknown): string[] {
  const root = node as ScannedElement;
  return [root, ...Array.from(root.querySelectorAll("*"))].flatMap((el) => [
    ...(["script", "iframe", "img", "svg", "object", "embed", "frame"].includes(el.localName)
      ? [el.outerHTML]
      : []),
    ...el
      .getAttributeNames()
      .filter((name) => name.toLowerCase().startsWith("on"))
      .map((name) => `${el.localName} ${name}`),
    ...["href", "src", "action", "formaction"]
      .filter((a) => /^\s*javascript:/i.test(el.getAttribute(a) ?? ""))
      .map((a) => `${el.localName} ${a}`),
  ]);
}

describe("hostile model text", () => {
  it("runs nothing from a panelist's reply or the writer's answer", async () => {
    const panelist = PANEL[1] as string;
    await e2e.control.script(panelist, { reply: HOSTILE, onlyRoles: ["panelist"] });
    await e2e.control.script(JUDGE, { reply: HOSTILE, onlyRoles: ["writer"] });
    const { page, problems } = await lab.open();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // The prompt too comes back (in History, the tool calls' queries): it is hostile as well.
    await startFusion(page, "Explain <img src=y onerror=\"window.__pwned='prompt'\"> please");
    await waitForEnd(page, "Done");

    // The payloads are on the page, as text.
    const shown = await textOf(card(page, panelist));
    expect(shown).toContain("<img src=x onerror=");
    expect(shown).toContain("<script>window.__pwned='script'");
    const answer = region(page, "Answer");
    expect(await textOf(answer)).toContain("<img src=x onerror=");
    expect(await textOf(answer)).toContain("<script>window.__pwned='script'");
    expect(await textOf(answer.getByRole("strong"))).toBe("bold");
    await region(page, "History")
      .getByRole("link", { name: /Explain <img src=y/ })
      .waitFor();

    // Point at and click what a model wrote: still nothing runs. The `javascript:` link lost its URL
    // (so it is no link any more); the https one kept its own and nothing else.
    await answer.getByText("click me", { exact: true }).click();
    const titled = answer.getByRole("link", { name: "titled" });
    expect(await titled.getAttribute("href")).toBe("https://example.org/t");
    await titled.hover();

    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
    // No element that runs or loads anything and no event handler attribute in the page's content.
    const found = await page.getByRole("main").evaluate(findActiveContent);
    expect(found).toEqual([]);
  });
});
