import { type BrowserFixture, launchBrowser } from "@fusion/testing";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type E2E, useStack } from "../../support/fixture.ts";

/** A page of the browser fixture, with what went wrong on it. */
export type WatchedPage = Awaited<ReturnType<BrowserFixture["newPage"]>>;
export type Page = WatchedPage["page"];
export type Locator = ReturnType<Page["locator"]>;
type PageOptions = Parameters<BrowserFixture["newPage"]>[0];

/**
 * The gateway's default panel (no providers file) and its judge, which also writes the answer: the
 * page ticks them by default. A simulator script for one of them applies to every role it plays
 * unless it says `onlyRoles`.
 */
export const PANEL = ["~anthropic/claude-opus-latest", "~openai/gpt-latest", "~google/gemini-pro-latest"];
export const JUDGE = "~anthropic/claude-opus-latest";

export interface Lab {
  e2e: E2E;
  browser: BrowserFixture;
  /** A page in a context of its own, closed after the test. */
  newPage(options?: PageOptions): Promise<WatchedPage>;
  /**
   * Opens the lab on the stack's gateway in a context of its own (fresh sessionStorage), types the
   * stack's key into "API key" and waits until the models are offered. What went wrong on the page
   * is then empty: the only error before is the API's 401 to the page's keyless probe, checked here.
   */
  open(options?: PageOptions): Promise<WatchedPage>;
}

/**
 * One stack (real Redis, simulator, services) and one Chromium for a test file; the pages a test
 * opened are closed and the simulator's scripts cleared after each test.
 */
export function useLab(options: Parameters<typeof useStack>[0] = {}): Lab {
  const e2e = useStack(options);
  const pages: WatchedPage[] = [];
  const lab: Lab = {
    e2e,
    browser: undefined as unknown as BrowserFixture,
    async newPage(pageOptions = {}) {
      const watched = await lab.browser.newPage(pageOptions);
      pages.push(watched);
      return watched;
    },
    async open(pageOptions = {}) {
      const watched = await lab.newPage(pageOptions);
      const { page, problems } = watched;
      await page.goto(`${e2e.stack.baseUrl}/lab`);
      await page.getByRole("textbox", { name: "API key" }).fill(e2e.stack.apiKey);
      await page.getByRole("checkbox", { name: PANEL[1], exact: true }).waitFor();
      expect(problems.pageErrors).toEqual([]);
      expect(problems.cspViolations).toEqual([]);
      for (const error of problems.consoleErrors) expect(error).toMatch(/401.*\/api\/v1\/models/);
      problems.consoleErrors.length = 0;
      return watched;
    },
  };
  beforeAll(async () => {
    lab.browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.all(pages.splice(0).map((p) => p.close()));
    await e2e.control.clearScripts();
  });
  afterAll(async () => {
    await lab.browser?.close();
  });
  return lab;
}

/** The page's regions, found as assistive technology finds them. */
export const region = (page: Page, name: string) => page.getByRole("region", { name, exact: true });

/** A panelist's card: the `<article>` in "Panel" named by its model. */
export const card = (page: Page, model: string) =>
  region(page, "Panel").getByRole("article", { name: model, exact: true });

/**
 * The text an element shows, as its reader sees it: rendered, with line breaks between blocks and
 * hidden parts (a closed `<details>`) left out.
 */
export function textOf(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's rendered text is what the reader sees, which is what these tests check
  return locator.innerText();
}

/** Polls `read` (every 20 ms) until `accept` holds for what it read, and resolves with that. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeout = 10_000,
): Promise<T> {
  let last: T | undefined;
  await expect
    .poll(
      async () => {
        last = await read();
        return accept(last);
      },
      { interval: 20, timeout },
    )
    .toBe(true);
  return last as T;
}

/** Whether the element has the keyboard focus. */
export function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el === el.ownerDocument.activeElement);
}

/**
 * The part of `reply` a card shows so far: the longest line of the card's text that begins the reply
 * ("" before its first word). No other line of a card may begin the reply: not its model, its state,
 * "Tool calls" or a tool call.
 */
export async function shownPart(cardLocator: Locator, reply: string): Promise<string> {
  const lines = (await textOf(cardLocator)).split("\n").map((l) => l.trim());
  return lines.filter((l) => l !== "" && reply.startsWith(l)).sort((a, b) => b.length - a.length)[0] ?? "";
}

/** Fills the prompt, presses Run and resolves with the id of the fusion the gateway started. */
export async function startFusion(page: Page, prompt: string): Promise<string> {
  await page.getByRole("textbox", { name: "Prompt" }).fill(prompt);
  // The fusion's request, not the compared single model's (sent at the same time, it may answer first).
  const answered = page.waitForResponse(
    (r) =>
      r.url().endsWith("/api/v1/chat/completions") &&
      r.request().method() === "POST" &&
      (r.request().postData() ?? "").includes('"progress":"full"'),
  );
  await page.getByRole("button", { name: "Run", exact: true }).click();
  return fusionIdOf(await answered);
}

/** The fusion id (`X-Fusion-Id`) of the gateway's answer that started a fusion. */
export function fusionIdOf(response: { status(): number; headers(): Record<string, string> }): string {
  expect(response.status()).toBe(200);
  const id = response.headers()["x-fusion-id"] ?? "";
  expect(id).toMatch(/^gen-fusion-/);
  return id;
}

/** Waits until the status line says the run ended this way ("Done in …", "Cancelled.", "Failed: …"). */
export async function waitForEnd(page: Page, ending: "Done" | "Cancelled" | "Failed", timeout = 20_000) {
  await page
    .getByRole("status")
    .filter({ hasText: new RegExp(`^${ending}\\b`) })
    .waitFor({ timeout });
}

export interface FinishedFusion {
  object: "chat.completion";
  choices: Array<{
    message: {
      content: string;
      annotations?: Array<{ type: string; url_citation: { url: string; title: string } }>;
    };
  }>;
  usage: { cost: number };
  fusion: {
    status: string;
    analysis?: {
      consensus: string[];
      contradictions: Array<{ topic: string; stances: Array<{ model: string; stance: string }> }>;
      partial_coverage: Array<{ point: string; models: string[] }>;
      unique_insights: Array<{ model: string; insight: string }>;
      blind_spots: string[];
    };
    failed_models?: string[];
    responses: Array<{ model: string; content: string }>;
    sources: Array<{ url: string; title: string }>;
    breakdown: { panel: Array<{ usage: { cost?: number } }> };
  };
}

/** `GET /api/v1/fusions/{id}`: the finished completion (with its `fusion` result). */
export async function finishedFusion(e2e: E2E, id: string): Promise<FinishedFusion> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/v1/fusions/${id}`, {
    headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as FinishedFusion;
  expect(body.object).toBe("chat.completion");
  return body;
}

/** A cost as the page writes it (the lab's `formatCost`): `$` and 6 decimals under a cent, else 4. */
export function costText(cost: number): string {
  return `$${cost.toFixed(cost !== 0 && Math.abs(cost) < 0.01 ? 6 : 4)}`;
}

/** A dollar amount the page wrote, as a number. */
export function dollars(text: string): number {
  const m = /\$(\d+\.\d+)/.exec(text);
  if (!m) throw new Error(`no cost in ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/** A duration the page wrote ("412 ms", "1.25 s"), in ms. */
export function duration(text: string): number {
  const m = /(\d+(?:\.\d+)?) (ms|s)\b/.exec(text);
  if (!m) throw new Error(`no duration in ${JSON.stringify(text)}`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}
