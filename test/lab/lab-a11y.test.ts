import { describeA11yViolations, saveScreenshot, seriousA11yViolations } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { fusionIdOf, isFocused, type Locator, PANEL, region, useLab, waitForEnd } from "./support/lab.ts";
import { citingReplies, PROMPT } from "./support/replies.ts";

/**
 * The lab for everyone (issue 12): a page filled by a fusion has no serious or critical axe-core
 * violation at 1280 and 390 px, light and dark, and fits the narrow screen (screenshots of each are
 * saved under .artifacts/screenshots/); the set-up is reachable by keyboard in order, and Enter on
 * Run starts a fusion.
 */
const lab = useLab();
const { e2e } = lab;

const LOOKS = [
  { width: 1280, height: 900, colorScheme: "light" },
  { width: 1280, height: 900, colorScheme: "dark" },
  { width: 390, height: 844, colorScheme: "light" },
  { width: 390, height: 844, colorScheme: "dark" },
] as const;

describe("accessibility", () => {
  it("has no serious or critical axe violation on a filled page at 1280 and 390 px, light and dark", async () => {
    const replies = await citingReplies(e2e);
    for (const [i, model] of PANEL.entries()) {
      await e2e.control.script(model, { reply: replies[i], onlyRoles: ["panelist"] });
    }
    const { page, problems } = await lab.open();
    await page.getByRole("textbox", { name: "Prompt" }).fill(PROMPT);
    await page.getByRole("checkbox", { name: "Compare with a single model" }).check();
    await page.getByRole("combobox", { name: "Compare model" }).selectOption(PANEL[1] as string);
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForEnd(page, "Done");
    await region(page, "Compare")
      .getByText(/alone: done$/)
      .waitFor();
    // Filled: three cards and a cited answer (what fills every region is lab-run.test.ts's concern).
    expect(await region(page, "Panel").getByRole("article").count()).toBe(3);
    expect(
      await region(page, "Answer").getByRole("list", { name: "Citations" }).getByRole("link").count(),
    ).toBe(1);

    for (const look of LOOKS) {
      const name = `${look.width} px, ${look.colorScheme}`;
      await page.setViewportSize({ width: look.width, height: look.height });
      await page.emulateMedia({ colorScheme: look.colorScheme });
      expect(await page.evaluate('matchMedia("(prefers-color-scheme: dark)").matches'), name).toBe(
        look.colorScheme === "dark",
      );
      const saved = await saveScreenshot(page, `lab-filled-${look.width}-${look.colorScheme}`);
      if (look.width === 390) {
        // And one screen of it as a phone shows it, at the panel's cards.
        await region(page, "Panel").evaluate((el) => el.scrollIntoView());
        await page.screenshot({ path: saved.replace(/\.png$/, "-screen.png") });
      }
      const violations = await seriousA11yViolations(page);
      expect(violations, `${name}:\n${describeA11yViolations(violations)}`).toEqual([]);
      // Nothing wider than the screen: no sideways scrolling.
      const [scrollWidth, innerWidth] = (await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]",
      )) as [number, number];
      expect(scrollWidth, name).toBeLessThanOrEqual(innerWidth);
    }
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  });

  it("reaches API key, Prompt, the set-up and Run by Tab in order, and Enter on Run starts a fusion", async () => {
    const { page, problems } = await lab.newPage();
    await page.goto(`${e2e.stack.baseUrl}/lab`);
    const key = page.getByRole("textbox", { name: "API key" });
    await key.waitFor();

    const tab = async (target: Locator, name: string) => {
      await page.keyboard.press("Tab");
      expect(await isFocused(target), `Tab to ${name}`).toBe(true);
    };
    await tab(key, "API key");
    await page.keyboard.type(e2e.stack.apiKey);
    const models = page.getByRole("group", { name: "Panel models" }).getByRole("checkbox");
    await models.first().waitFor();
    await tab(page.getByRole("textbox", { name: "Prompt" }), "Prompt");
    await page.keyboard.type("Ridge or lasso, by keyboard?");
    await tab(page.getByRole("combobox", { name: "Preset" }), "Preset");
    const boxes = await models.all();
    expect(boxes.length).toBeGreaterThanOrEqual(PANEL.length);
    for (const [i, box] of boxes.entries()) await tab(box, `panel model ${i + 1}`);
    await tab(page.getByRole("combobox", { name: "Judge" }), "Judge");
    await tab(page.getByRole("spinbutton", { name: "Max tool calls" }), "Max tool calls");
    await tab(page.getByRole("checkbox", { name: "Web tools" }), "Web tools");
    await tab(
      page.getByRole("checkbox", { name: "Compare with a single model" }),
      "Compare with a single model",
    );
    await tab(page.getByRole("combobox", { name: "Compare model" }), "Compare model");
    const run = page.getByRole("button", { name: "Run", exact: true });
    await tab(run, "Run");

    const answered = page.waitForResponse(
      (r) => r.url().endsWith("/api/v1/chat/completions") && r.request().method() === "POST",
    );
    await page.keyboard.press("Enter");
    fusionIdOf(await answered);
    await waitForEnd(page, "Done");
    expect(await region(page, "Panel").getByRole("article").count()).toBe(PANEL.length);

    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
    for (const error of problems.consoleErrors) expect(error).toMatch(/401.*\/api\/v1\/models/);
  });
});
