import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AxeBuilder } from "@axe-core/playwright";
import type { Result as AxeViolation } from "axe-core";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where screenshots go (gitignored): `.artifacts/screenshots/` at the repository's root. */
export const screenshotDir = join(root, ".artifacts/screenshots");

/**
 * Debian's Chromium in a container or CI: no sandbox (root, no user namespaces), no GPU, and nothing
 * that reaches out on its own (QUIC, component updates, sync, background fetches).
 */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The browser to drive: `CHROMIUM_PATH`, or Debian's `/usr/bin/chromium` (scripts/test.sh installs it). */
function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH?.trim() || "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's chromium (apt-get install chromium; scripts/test.sh does) or set CHROMIUM_PATH`,
    );
  }
  return path;
}

/** A Content-Security-Policy violation the page reported (`securitypolicyviolation`). */
export interface CspViolation {
  directive: string;
  blockedUri: string;
  sourceFile: string;
  sample: string;
}

/** What went wrong on a page while a test drove it. */
export interface PageProblems {
  /** Console messages of type "error" (with the resource they are about, when Chromium names one). */
  consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections. */
  pageErrors: string[];
  cspViolations: CspViolation[];
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  problems: PageProblems;
  /** Closes the page's context (its storage goes with it). */
  close(): Promise<void>;
}

export interface PageOptions {
  /** Viewport width in CSS pixels (default 1280). */
  width?: number;
  /** Viewport height in CSS pixels (default 900). */
  height?: number;
  colorScheme?: "light" | "dark";
}

export interface BrowserFixture {
  browser: Browser;
  /** A page in a context of its own (fresh storage), its problems collected from the first script on. */
  newPage(options?: PageOptions): Promise<WatchedPage>;
  close(): Promise<void>;
}

const BINDING = "__fusionReportCspViolation";

/** Runs in the page before its own scripts: hands each CSP violation to the test. */
const REPORT_CSP_VIOLATIONS = `document.addEventListener("securitypolicyviolation", (e) => {
  window.${BINDING}({ directive: e.effectiveDirective || e.violatedDirective, blockedUri: e.blockedURI,
    sourceFile: e.sourceFile || "", sample: e.sample || "" });
}, true);`;

/** Launches Chromium with playwright-core; close it in the suite's `afterAll`. */
export async function launchBrowser(): Promise<BrowserFixture> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: CHROMIUM_FLAGS,
    headless: true,
  });
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
        colorScheme: options.colorScheme ?? "light",
      });
      const page = await context.newPage();
      const problems: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [] };
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        const where = message.location().url;
        problems.consoleErrors.push(where ? `${message.text()} (${where})` : message.text());
      });
      page.on("pageerror", (err) => problems.pageErrors.push(err.stack ?? err.message));
      await page.exposeBinding(BINDING, (_source, violation: CspViolation) => {
        problems.cspViolations.push(violation);
      });
      await page.addInitScript(REPORT_CSP_VIOLATIONS);
      return { page, context, problems, close: () => context.close() };
    },
    close: () => browser.close(),
  };
}

/** Saves a full-page screenshot as `.artifacts/screenshots/<name>.png` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Runs axe-core on the page as it is now and returns the violations of impact "serious" or "critical"
 * (WCAG 2.x A and AA rules, and axe's best practices), each with the elements it found.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** One line per violation, for an assertion's message: rule, impact, help and the first elements. */
export function describeA11yViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map((v) => {
      const targets = v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(" "))
        .join("; ");
      return `${v.id} (${v.impact}): ${v.help} — ${targets}`;
    })
    .join("\n");
}
