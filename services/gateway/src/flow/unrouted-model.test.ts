import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useSimulator } from "@fusion/simulator/test-support";
import { type RedisFixture, startRedis } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../test-gateway.ts";

/**
 * With a providers file, a fusion naming a model that no route matches is refused with a 400 before
 * anything is queued (without the check, it would fail later in a worker, with the caller's slot and
 * the other panelists' calls already spent).
 */

const sim = useSimulator();
let redisFixture: RedisFixture;
let gw: TestGateway;
const dir = mkdtempSync(join(tmpdir(), "fusion-unrouted-"));

beforeAll(async () => {
  redisFixture = await startRedis();
  const configPath = join(dir, "fusion.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      providers: { sim: { base_url: `${sim.url}/v1` } },
      routes: [{ match: "sim/*", provider: "sim" }],
    }),
  );
  gw = await testGateway({
    redisUrl: redisFixture.url,
    upstreamUrl: `${sim.url}/v1`,
    env: { FUSION_CONFIG: configPath },
  });
});
afterAll(async () => {
  await gw?.close();
  await redisFixture?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: Record<string, unknown>) =>
  gw.app.request("/api/v1/chat/completions", {
    method: "POST",
    headers: { ...gw.auth, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...body }),
  });

describe("models no provider route matches", () => {
  it.each([
    [
      "a panel model (alias)",
      {
        model: "openrouter/fusion",
        plugins: [{ id: "fusion", analysis_models: ["sim/a", "gpu/b"], model: "sim/j" }],
      },
      /no provider route matches model "gpu\/b" \(a panel model\)/,
    ],
    [
      "the judge (plugin)",
      { model: "sim/caller", plugins: [{ id: "fusion", analysis_models: ["sim/a"], model: "gpu/judge" }] },
      /no provider route matches model "gpu\/judge" \(the judge\)/,
    ],
    [
      "the judge and writer (alias)",
      { model: "openrouter/fusion", plugins: [{ id: "fusion", analysis_models: ["sim/a"], model: "gpu/j" }] },
      /no provider route matches model "gpu\/j" \(the judge and writer\)/,
    ],
    [
      "the calling model (server tool, offered)",
      {
        model: "gpu/caller",
        tools: [{ type: "openrouter:fusion", parameters: { analysis_models: ["sim/a"], model: "sim/j" } }],
      },
      /no provider route matches model "gpu\/caller" \(the calling model\)/,
    ],
  ])("refuses %s with a 400 and queues nothing", async (_name, body, message) => {
    const res = await post({ ...body, stream: true });
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: { code: number; message: string } };
    expect(error.error.code).toBe(400);
    expect(error.error.message).toMatch(message);
    expect(await gw.jobCounts()).toBe(0);
  });

  it("names the built-in default judge when the file routes no model of it", async () => {
    const res = await post({
      model: "openrouter/fusion",
      plugins: [{ id: "fusion", analysis_models: ["sim/a"] }],
    });
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: { message: string } };
    expect(error.error.message).toMatch(/no provider route matches model "[^"]+" \(the judge and writer\)/);
  });

  it("accepts a fusion whose models all route", async () => {
    const res = await post({
      model: "openrouter/fusion",
      stream: true,
      plugins: [{ id: "fusion", analysis_models: ["sim/a", "sim/b"], model: "sim/j" }],
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    expect(await gw.jobCounts()).toBeGreaterThan(0);
  });

  it("answers a plain request for an unrouted model with the router's 400", async () => {
    const res = await post({ model: "gpu/plain" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 400, message: 'no provider route matches model "gpu/plain"' },
    });
  });
});
