// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the providers file holds ${NAME} references.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useSimulator } from "@fusion/simulator/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf, useStack } from "./support/fixture.ts";

// A providers file routing `local/*` to a second simulator (a "GPU box" serving one call at a time, with
// slugs stripped of `local/`) and everything else to the stack's simulator; plus a preset of its own.
const dir = mkdtempSync(join(tmpdir(), "fusion-providers-"));
const configPath = join(dir, "fusion.yaml");
const env: Record<string, string> = { FUSION_CONFIG: configPath, LOG_LEVEL: "info" };
const gpu = useSimulator();

beforeAll(() => {
  env.GPU_BASE_URL = `${gpu.url}/v1`;
  writeFileSync(
    configPath,
    `
providers:
  cloud:
    base_url: \${UPSTREAM_BASE_URL}
    api_key: \${UPSTREAM_API_KEY}
    dialect: openrouter # the simulator, on 127.0.0.1
    headers: { X-Title: Fusion e2e }
  local-gpu:
    base_url: \${GPU_BASE_URL}
    max_concurrency: 1
    strip_prefix: local/
    headers: { X-Gpu: box-1 }
routes:
  - { match: "local/*", provider: local-gpu }
  - { match: "*", provider: cloud }
presets:
  mixed:
    description: Two local models and a cloud one.
    analysis_models: [local/llama3, local/qwen3, "~openai/gpt-latest"]
    judge: "~anthropic/claude-opus-latest"
`,
  );
});

// Registered after the hooks above, so the stack starts once the GPU runs and the file exists; two panel
// workers, so the GPU's limit must hold across processes.
const e2e = useStack({ env, panelWorkers: 2 });

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("providers file", () => {
  it("sends each panelist to its provider, with that provider's slug and headers, one GPU call at a time", async () => {
    for (const model of ["llama3", "qwen3"]) gpu.state.setScript(model, { latencyMs: 250 });
    gpu.concurrency.reset();
    const res = await e2e.post({
      model: "openrouter/fusion",
      plugins: [{ id: "fusion", preset: "mixed" }],
      messages: [{ role: "user", content: "Compare ridge and lasso regression." }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { fusion?: { status: string; responses?: Array<{ model: string }> } };
    expect(body.fusion?.status).toBe("ok");
    expect(body.fusion?.responses?.map((r) => r.model).sort()).toEqual(
      ["local/llama3", "local/qwen3", "~openai/gpt-latest"].sort(),
    );

    for (const model of ["llama3", "qwen3"]) {
      const calls = gpu.state.listRequests({ model, role: "panelist" });
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        expect(call.headers["x-gpu"]).toBe("box-1");
        expect(call.headers["x-openrouter-fusion-depth"]).toBe("1");
        expect(call.headers.authorization).toBeUndefined();
        expect(call.headers["x-title"]).toBeUndefined();
      }
    }
    expect(gpu.state.listRequests().every((r) => !String(r.model).startsWith("~"))).toBe(true);
    expect(gpu.concurrency.max).toBe(1);

    const cloudPanel = await e2e.control.requests({ model: "~openai/gpt-latest", role: "panelist" });
    expect(cloudPanel.length).toBeGreaterThan(0);
    expect(cloudPanel[0]?.headers).toMatchObject({
      authorization: `Bearer ${e2e.stack.upstreamKey}`,
      "x-title": "Fusion e2e",
    });
    expect(cloudPanel[0]?.headers["x-gpu"]).toBeUndefined();
    expect(
      await e2e.control.requests({ model: "~anthropic/claude-opus-latest", role: "judge" }),
    ).not.toHaveLength(0);
    expect(await e2e.control.requests({ model: "local/llama3" })).toEqual([]);
  });

  it("proxies a plain request to the provider its model routes to", async () => {
    const res = await e2e.post({ model: "local/mistral", messages: [{ role: "user", content: "ping" }] });
    expect(res.status).toBe(200);
    const [call] = gpu.state.listRequests({ model: "mistral" });
    expect(bodyOf(call).model).toBe("mistral");
    expect(call?.headers["x-gpu"]).toBe("box-1");
  });

  it("lists the routes and the file's presets beside the built-in ones", async () => {
    const res = await fetch(`${e2e.stack.baseUrl}/api/v1/models`, {
      headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
    });
    const body = (await res.json()) as {
      routes: Array<{ match: string; provider: string }>;
      presets: Array<{ slug: string; analysis_models: string[]; judge: string }>;
    };
    expect(body.routes).toEqual([
      { match: "local/*", provider: "local-gpu" },
      { match: "*", provider: "cloud" },
    ]);
    expect(body.presets.map((p) => p.slug)).toEqual([
      "general-high",
      "general-budget",
      "general-fast",
      "mixed",
    ]);
    expect(body.presets.at(-1)).toMatchObject({
      analysis_models: ["local/llama3", "local/qwen3", "~openai/gpt-latest"],
      judge: "~anthropic/claude-opus-latest",
    });
  });
});
