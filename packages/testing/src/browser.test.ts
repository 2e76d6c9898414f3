import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserFixture,
  describeA11yViolations,
  launchBrowser,
  saveScreenshot,
  screenshotDir,
  seriousA11yViolations,
} from "./browser.ts";

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'";

/** Two pages under a strict policy: one that breaks it, logs an error and throws, and one that is clean. */
const files: Record<string, [type: string, body: string]> = {
  "/bad": [
    "text/html",
    '<!doctype html><html><head><script src="/bad.js"></script></head>' +
      '<body><script>document.title = "inline ran"</script><img src="/missing.png"></body></html>',
  ],
  "/bad.js": [
    "text/javascript",
    'console.error("bad page says no"); setTimeout(() => { throw new Error("thrown later"); });',
  ],
  "/clean": [
    "text/html",
    '<!doctype html><html lang="en"><head><title>Clean</title><script type="module" src="/clean.js"></script></head>' +
      "<body><main><h1>Clean</h1><p>Nothing to see.</p></main></body></html>",
  ],
  "/clean.js": ["text/javascript", 'document.body.dataset.ready = "yes";'],
};

describe("the browser fixture", () => {
  let server: Server;
  let base: string;
  let browser: BrowserFixture;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const file = files[req.url ?? ""];
      if (!file) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": file[0], "content-security-policy": CSP }).end(file[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("collects console errors, uncaught exceptions and CSP violations of a page", async () => {
    const { page, problems, close } = await browser.newPage();
    await page.goto(`${base}/bad`);
    await expect.poll(() => problems.pageErrors.length).toBe(1);
    expect(problems.pageErrors[0]).toContain("thrown later");
    expect(problems.consoleErrors.some((e) => e.includes("bad page says no"))).toBe(true);
    expect(problems.cspViolations).toContainEqual(
      expect.objectContaining({ directive: "script-src-elem", blockedUri: "inline" }),
    );
    expect(await page.title()).not.toBe("inline ran");
    await close();
  });

  it("finds nothing on a clean page, and axe (run under the page's CSP) finds no serious violation", async () => {
    const { page, problems, close } = await browser.newPage({ width: 390, height: 700, colorScheme: "dark" });
    await page.goto(`${base}/clean`);
    await expect.poll(() => page.evaluate("document.body.dataset.ready")).toBe("yes");
    const violations = await seriousA11yViolations(page);
    expect(violations, describeA11yViolations(violations)).toEqual([]);
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
    await close();
  });

  it("reports serious accessibility violations with the elements they are about", async () => {
    const { page, close } = await browser.newPage();
    await page.goto(`${base}/bad`);
    const violations = await seriousA11yViolations(page);
    const described = describeA11yViolations(violations);
    expect(described).toContain("image-alt (critical)");
    expect(described).toContain("img");
    await close();
  });

  it("saves a screenshot as a PNG under .artifacts/screenshots", async () => {
    const { page, close } = await browser.newPage({ width: 390 });
    await page.goto(`${base}/clean`);
    const path = await saveScreenshot(page, "browser-fixture-selftest");
    expect(path.startsWith(screenshotDir)).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path).subarray(1, 4).toString()).toBe("PNG");
    rmSync(path);
    await close();
  });
});
