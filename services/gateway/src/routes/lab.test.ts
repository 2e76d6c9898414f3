import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "@fusion/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayEnvSchema } from "../env.ts";
import { factory } from "../factory.ts";
import { notFound } from "../http/error-handlers.ts";
import { labRoutes } from "./lab.ts";

const INDEX =
  '<!doctype html><html><head><script type="module" src="/lab/assets/index-Ab12Cd.js"></script>' +
  '<link rel="stylesheet" href="/lab/assets/index-Ef34Gh.css"></head><body><div id="app"></div></body></html>';

/** A fake build: the page, two hashed files, an icon, and a secret beside the build that must stay unreachable. */
function fakeBuild(root: string): string {
  const dist = join(root, "dist");
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "index.html"), INDEX);
  writeFileSync(join(dist, "assets/index-Ab12Cd.js"), "console.log('lab');\n");
  writeFileSync(join(dist, "assets/index-Ef34Gh.css"), "body{margin:0}\n");
  writeFileSync(join(dist, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(root, "secret.txt"), "not for the web");
  return dist;
}

function labApp(distDir: string) {
  const warnings: unknown[][] = [];
  const app = factory.createApp();
  app.route("/", labRoutes({ distDir, logger: { warn: (...args: unknown[]) => warnings.push(args) } }));
  app.notFound(notFound);
  return { app, warnings };
}

describe("the lab route", () => {
  let root: string;
  let dist: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "fusion-lab-"));
    dist = fakeBuild(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("answers the page at /lab and /lab/ under a strict policy, revalidated on every load", async () => {
    const { app, warnings } = labApp(dist);
    expect(warnings).toEqual([]);
    for (const path of ["/lab", "/lab/", "/lab/index.html"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await res.text()).toBe(INDEX);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("content-security-policy")).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
          "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("strict-transport-security")).toBeNull();
    }
  });

  it("answers 304 to a reload whose ETag still matches", async () => {
    const { app } = labApp(dist);
    const first = await app.request("/lab");
    const tag = first.headers.get("etag");
    expect(tag).toMatch(/^"[0-9a-f]+"$/);
    const again = await app.request("/lab", { headers: { "if-none-match": tag ?? "" } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("cache-control")).toBe("no-cache");
    const changed = await app.request("/lab", { headers: { "if-none-match": '"other"' } });
    expect(changed.status).toBe(200);
  });

  it("serves hashed files with their type, cached for a year", async () => {
    const { app } = labApp(dist);
    const js = await app.request("/lab/assets/index-Ab12Cd.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(js.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await js.text()).toBe("console.log('lab');\n");
    const css = await app.request("/lab/assets/index-Ef34Gh.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const icon = await app.request("/lab/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers HEAD without a body", async () => {
    const { app } = labApp(dist);
    const res = await app.request("/lab/assets/index-Ab12Cd.js", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("20");
    expect(await res.text()).toBe("");
  });

  it("answers 404 in the error shape for files that are not in the build", async () => {
    const { app } = labApp(dist);
    for (const path of [
      "/lab/assets/nope.js",
      "/lab/nope.html",
      "/lab/assets/",
      "/lab/assets",
      "/lab/a/b.js",
    ]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ error: { code: 404, type: "not_found" } });
    }
  });

  it("never leaves the build, however the path is spelled", async () => {
    const { app } = labApp(dist);
    const paths = [
      "/lab/assets/%2e%2e/%2e%2e/secret.txt",
      "/lab/assets/..%2f..%2fsecret.txt",
      "/lab/assets/%2E%2E%2F%2E%2E%2Fsecret.txt",
      "/lab/..%2fsecret.txt",
      "/lab/assets/..%5c..%5csecret.txt",
      "/lab/assets/%252e%252e/secret.txt",
      "/lab/assets//..//secret.txt",
      "/lab/assets/%00../secret.txt",
    ];
    for (const path of paths) {
      // `app.request` takes the path as written: no URL parser folds the dots away first.
      const res = await app.fetch(new Request(`http://gateway${path}`));
      const body = await res.text();
      expect(res.status, path).toBe(404);
      expect(body, path).not.toContain("not for the web");
    }
  });

  it("without a build: warns once at start-up and answers 503 saying how to build it", async () => {
    const { app, warnings } = labApp(join(root, "missing"));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.[1])).toContain("pnpm --filter @fusion/lab build");
    for (const path of ["/lab", "/lab/assets/index-Ab12Cd.js"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(503);
      const body = (await res.json()) as { error: { code: number; message: string; type: string } };
      expect(body.error).toMatchObject({ code: 503, type: "unavailable" });
      expect(body.error.message).toContain("pnpm --filter @fusion/lab build");
    }
    expect(warnings).toHaveLength(1);
  });
});

describe("LAB_ENABLED", () => {
  it("is on by default and off only for the words that mean false", () => {
    expect(parseEnv(gatewayEnvSchema, {}).LAB_ENABLED).toBe(true);
    for (const off of ["false", "0", "no", "off"]) {
      expect(parseEnv(gatewayEnvSchema, { LAB_ENABLED: off }).LAB_ENABLED, off).toBe(false);
    }
    expect(parseEnv(gatewayEnvSchema, { LAB_ENABLED: "true" }).LAB_ENABLED).toBe(true);
  });

  it("refuses any other value at start-up, naming the variable", () => {
    for (const bad of ["maybe", "disabled", "False "]) {
      expect(() => parseEnv(gatewayEnvSchema, { LAB_ENABLED: bad }), bad).toThrow(/LAB_ENABLED/);
    }
  });
});
