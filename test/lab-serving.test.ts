import { existsSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { labDistDir } from "@fusion/lab";
import {
  type BrowserFixture,
  describeA11yViolations,
  freePort,
  launchBrowser,
  Stack,
  saveScreenshot,
  seriousA11yViolations,
} from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useStack } from "./support/fixture.ts";

/**
 * The lab page as the gateway serves it (issue 12): its headers (a strict Content-Security-Policy,
 * caching, nosniff), no key needed to load it, LAB_ENABLED=false, no way out of the build, and the
 * page itself in Debian's Chromium with no console error and no CSP violation. The page is built by
 * scripts/bootstrap.sh (run by the test command) into packages/lab/dist.
 */
const e2e = useStack();
const indexFile = join(labDistDir, "index.html");

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Extra gateways of this file (own environment, on the stack's queues, so its workers make them ready). */
const extras: Stack[] = [];
async function gatewayWith(env: Record<string, string>): Promise<string> {
  const stack = new Stack({
    redisUrl: e2e.redis.url,
    simulatorUrl: e2e.sim.url,
    env: { QUEUE_PREFIX: e2e.stack.prefix, ...env },
  });
  extras.push(stack);
  stack.spawn("gateway", 0, await freePort());
  await stack.waitReady(stack.baseUrl);
  return stack.baseUrl;
}

/** A GET with the path sent exactly as written (fetch would fold `..` away before it leaves). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The files the built page loads: every `src` and `href` of its HTML. */
function referencedFiles(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
}

let offUrl: string;
let openUrl: string;
let browser: BrowserFixture;
let html: string;

beforeAll(async () => {
  expect(
    existsSync(indexFile),
    `${indexFile} is missing: run scripts/bootstrap.sh (or pnpm --filter @fusion/lab build)`,
  ).toBe(true);
  html = readFileSync(indexFile, "utf8");
  [offUrl, openUrl, browser] = await Promise.all([
    gatewayWith({ LAB_ENABLED: "false" }),
    // No keys, on loopback: the page then hides its key field (as with the offline start command).
    gatewayWith({ GATEWAY_API_KEYS: "" }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(extras.map((s) => s.stop()));
});

describe("GET /lab", () => {
  it("answers the built page at /lab and /lab/ without a key, under a strict policy, revalidated each load", async () => {
    for (const path of ["/lab", "/lab/"]) {
      const res = await fetch(`${e2e.stack.baseUrl}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("content-security-policy")).toBe(CSP);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(await res.text()).toBe(html);
    }
    // The page is public; the API it calls is not.
    expect((await fetch(`${e2e.stack.baseUrl}/api/v1/models`)).status).toBe(401);
  });

  it("is a build with no inline script, style or handler, loading only its own files", () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = "", body = ""] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/lab\/assets\/[^"]+\.js"/);
      expect(body.trim()).toBe("");
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    // Its own files, or data: (an icon, say); never another origin.
    for (const file of referencedFiles(html)) expect(file).toMatch(/^(?:\/lab\/|data:)/);
  });

  it("serves each hashed file with its type, cached for a year, and 304 while its ETag matches", async () => {
    const assets = referencedFiles(html).filter((f) => f.startsWith("/lab/assets/"));
    expect(assets.some((f) => f.endsWith(".js"))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(`${e2e.stack.baseUrl}${asset}`);
      expect(res.status, asset).toBe(200);
      const type = asset.endsWith(".js") ? "text/javascript" : asset.endsWith(".css") ? "text/css" : "";
      if (type) expect(res.headers.get("content-type"), asset).toBe(`${type}; charset=utf-8`);
      expect(res.headers.get("cache-control"), asset).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options"), asset).toBe("nosniff");
      expect(await res.text()).toBe(readFileSync(join(labDistDir, asset.slice("/lab/".length)), "utf8"));
      const etag = res.headers.get("etag") ?? "";
      expect(etag, asset).not.toBe("");
      const again = await fetch(`${e2e.stack.baseUrl}${asset}`, { headers: { "if-none-match": etag } });
      expect(again.status, asset).toBe(304);
    }
  });

  it("answers 404 in the error shape for what is not in the build", async () => {
    for (const path of ["/lab/assets/nope-123.js", "/lab/nope.html", "/lab/assets/", "/lab/src/main.tsx"]) {
      const res = await fetch(`${e2e.stack.baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ error: { code: 404, type: "not_found" } });
    }
  });

  it("never answers a file outside the build, however the path is spelled", async () => {
    // packages/lab/package.json sits just above the build; the repository's files further up.
    const outside = ['"name": "@fusion/lab"', '"name": "fusion"', '"name": "@fusion/gateway"'];
    const paths = [
      "/lab/../package.json",
      "/lab/assets/../package.json",
      "/lab/assets/../../package.json",
      "/lab/assets/../../../../package.json",
      "/lab/assets/../../../../services/gateway/package.json",
      "/lab/assets/%2e%2e/%2e%2e/package.json",
      "/lab/assets/..%2f..%2fpackage.json",
      "/lab/assets/%2e%2e%2f%2e%2e%2fpackage.json",
      "/lab/..%2fpackage.json",
      "/lab/assets/..%5c..%5cpackage.json",
      "/lab/assets/..\\..\\package.json",
      "/lab/assets/%252e%252e%252fpackage.json",
      "/lab/assets//../../package.json",
      "/lab/assets/%00/../../package.json",
    ];
    for (const path of paths) {
      const { status, body } = await rawGet(e2e.stack.baseUrl, path);
      expect([400, 404], `${path}: ${status}`).toContain(status);
      for (const marker of outside) expect(body, path).not.toContain(marker);
    }
  });

  it("is 404 with LAB_ENABLED=false, and the API still answers", async () => {
    for (const path of ["/lab", "/lab/", "/lab/assets/x.js"]) {
      const res = await fetch(`${offUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ error: { code: 404, type: "not_found" } });
    }
    expect((await fetch(`${offUrl}/healthz`)).status).toBe(200);
  });
});

describe("the lab page in Chromium", () => {
  it("loads with no console error, no uncaught exception and no CSP violation, at 1280 and 390 px", async () => {
    for (const width of [1280, 390]) {
      const { page, problems, close } = await browser.newPage({ width });
      await page.goto(`${openUrl}/lab`);
      // The page is up once it has asked the API for its models and offers to run.
      await page.getByRole("button", { name: "Run" }).waitFor();
      await page.getByRole("textbox", { name: "Prompt" }).waitFor();
      await saveScreenshot(page, `lab-loaded-${width}`);
      expect(problems, `at ${width} px`).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
      const violations = await seriousA11yViolations(page);
      expect(violations, describeA11yViolations(violations)).toEqual([]);
      await close();
    }
  });

  it("asks for the API key when the gateway has keys; the only error is the API's 401 to the keyless probe", async () => {
    const { page, problems, close } = await browser.newPage();
    await page.goto(`${e2e.stack.baseUrl}/lab`);
    const key = page.getByLabel("API key");
    await key.waitFor();
    expect(await key.getAttribute("type")).toBe("password");
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
    for (const error of problems.consoleErrors) expect(error).toMatch(/401.*\/api\/v1\/models/);
    await close();
  });
});
