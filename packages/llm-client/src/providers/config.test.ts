// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold the file's ${NAME} references, not templates.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinPresetCatalog } from "@fusion/wire";
import { afterAll, describe, expect, it } from "vitest";
import { FusionConfigError, parseFusionConfig, presetCatalog } from "./config.ts";
import { expandEnv } from "./env-references.ts";
import { loadFusionConfig } from "./load-config.ts";

const dir = mkdtempSync(join(tmpdir(), "fusion-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The message of what `fn` throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected a throw");
}

const yamlText = `
providers:
  openrouter:
    base_url: https://openrouter.ai/api/v1/
    api_key: \${OR_KEY}
    headers: { X-Title: Fusion, X-Version: 2 }
  local-gpu:
    base_url: \${GPU_URL:-http://gpu-box:8000/v1}
    max_concurrency: \${GPU_SLOTS}
    headers_timeout_ms: 120000
    strip_prefix: "local/"
    drop_fields: [plugins, provider]
routes:
  - { match: "local/*", provider: local-gpu }
  - { match: "*", provider: openrouter }
presets:
  local-fast:
    description: Two local models.
    analysis_models: [local/llama3, local/qwen3]
    judge: local/llama3
  general-fast:
    analysis_models: ["~openai/gpt-mini-latest"]
    judge: "~openai/gpt-latest"
default_preset: local-fast
`;

describe("loadFusionConfig", () => {
  it("reads YAML, expands the environment and normalizes the fields", () => {
    const config = loadFusionConfig(file("fusion.yaml", yamlText), { OR_KEY: "sk-or", GPU_SLOTS: "1" });
    expect(config.providers.openrouter).toEqual({
      name: "openrouter",
      baseUrl: "https://openrouter.ai/api/v1",
      apiKey: "sk-or",
      headers: { "X-Title": "Fusion", "X-Version": "2" },
    });
    expect(config.providers["local-gpu"]).toEqual({
      name: "local-gpu",
      baseUrl: "http://gpu-box:8000/v1",
      headers: {},
      maxConcurrency: 1,
      headersTimeoutMs: 120_000,
      stripPrefix: "local/",
      dropFields: ["plugins", "provider"],
    });
    expect(config.routes).toEqual([
      { match: "local/*", provider: "local-gpu" },
      { match: "*", provider: "openrouter" },
    ]);
    expect(config.presets["local-fast"]).toEqual({
      slug: "local-fast",
      description: "Two local models.",
      analysisModels: ["local/llama3", "local/qwen3"],
      judge: "local/llama3",
    });
    expect(config.defaultPreset).toBe("local-fast");
  });

  it("reads JSON the same way", () => {
    const path = file(
      "fusion.json",
      JSON.stringify({
        providers: { vllm: { base_url: "http://127.0.0.1:8000/v1", api_key: "${VLLM_KEY:-none}" } },
        routes: [{ match: "*", provider: "vllm", model_map: { "meta/llama": "llama-3.1-8b" } }],
      }),
    );
    const config = loadFusionConfig(path, {});
    expect(config.providers.vllm?.apiKey).toBe("none");
    expect(config.routes[0]).toEqual({
      match: "*",
      provider: "vllm",
      modelMap: { "meta/llama": "llama-3.1-8b" },
    });
    expect(config.presets).toEqual({});
  });

  it("reads a provider's dialect and structured output, left unset when not written", () => {
    const config = parseFusionConfig(
      {
        providers: {
          vllm: {
            base_url: "http://vllm:8000/v1",
            dialect: "openai-compatible",
            structured_output: "json_schema",
          },
          ds: { base_url: "https://api.deepseek.com", structured_output: "none" },
          or: { base_url: "https://openrouter.ai/api/v1" },
        },
        routes: [{ match: "*", provider: "vllm" }],
      },
      {},
    );
    expect(config.providers.vllm).toMatchObject({
      dialect: "openai-compatible",
      structuredOutput: "json_schema",
    });
    expect(config.providers.ds).toMatchObject({ structuredOutput: "none" });
    expect(config.providers.ds).not.toHaveProperty("dialect");
    expect(config.providers.or).not.toHaveProperty("dialect");
    expect(config.providers.or).not.toHaveProperty("structuredOutput");
  });

  it("names the file and the syntax error of a broken file", () => {
    expect(thrown(() => loadFusionConfig(file("broken.json", "{ nope"), {}))).toMatch(
      /broken\.json: not valid JSON/,
    );
    expect(thrown(() => loadFusionConfig(file("broken.yml", "providers: [a\n  b: c"), {}))).toMatch(
      /broken\.yml: not valid YAML/,
    );
    expect(thrown(() => loadFusionConfig(file("empty.yaml", ""), {}))).toMatch(
      /empty\.yaml: the file is empty/,
    );
    expect(thrown(() => loadFusionConfig(join(dir, "missing.yaml"), {}))).toMatch(
      /missing\.yaml: cannot be read \(no such file\)/,
    );
    expect(thrown(() => loadFusionConfig(file("fusion.toml", ""), {}))).toMatch(
      /fusion\.toml: must be a \.json, \.yaml or \.yml file/,
    );
  });
});

describe("parseFusionConfig errors name the field", () => {
  const base = {
    providers: { a: { base_url: "http://127.0.0.1:1/v1" } },
    routes: [{ match: "*", provider: "a" }],
  };

  it.each([
    [
      { ...base, routes: [{ match: "*", provider: "b" }] },
      'routes.0.provider: unknown provider "b"; the file defines a',
    ],
    [
      { ...base, providers: { a: { base_url: "gpu-box:8000" } } },
      "providers.a.base_url: must be an http(s) URL",
    ],
    [
      { ...base, providers: { a: { base_url: "http://x", max_concurrency: 0 } } },
      "providers.a.max_concurrency: must be a whole number from 1",
    ],
    [
      { ...base, providers: { a: { base_url: "http://x", timeout: 5 } } },
      'providers.a: Unrecognized key: "timeout"',
    ],
    [
      { ...base, providers: { a: { base_url: "http://x", drop_fields: ["plugins", "messages"] } } },
      "providers.a.drop_fields.1: model and messages cannot be dropped",
    ],
    [
      { ...base, providers: { a: { base_url: "http://x", dialect: "anthropic" } } },
      "providers.a.dialect: must be one of openrouter, openai, deepseek, openai-compatible",
    ],
    [
      { ...base, providers: { a: { base_url: "http://x", structured_output: "json" } } },
      "providers.a.structured_output: must be one of json_schema, json_object, none",
    ],
    [{ ...base, routes: [] }, "routes: must hold at least one route"],
    [{ ...base, providers: {} }, "providers: must name at least one provider"],
    [{ ...base, extra: 1 }, '(file): Unrecognized key: "extra"'],
    [
      {
        ...base,
        routes: [{ match: "local/*", provider: "a" }],
        presets: { p: { analysis_models: ["local/x", "cloud/y"], judge: "local/x" } },
      },
      'presets.p.analysis_models.1: no route matches "cloud/y"',
    ],
    [{ ...base, presets: { p: { analysis_models: [], judge: "x" } } }, "presets.p.analysis_models:"],
    [{ ...base, default_preset: "nope" }, 'default_preset: unknown preset "nope"'],
  ])("%#", (raw, message) => {
    const error = thrown(() => parseFusionConfig(raw, {}, "f.yaml"));
    expect(error.startsWith("f.yaml: ")).toBe(true);
    expect(error).toContain(message);
  });

  it("throws FusionConfigError", () => {
    expect(() => parseFusionConfig({}, {})).toThrow(FusionConfigError);
  });
});

describe("expandEnv", () => {
  const env = { KEY: "sk-1", EMPTY: "" };

  it("replaces references, applies defaults and keeps escaped ones literal", () => {
    const issues: string[] = [];
    const out = expandEnv(
      {
        a: "Bearer ${KEY}",
        b: ["${MISSING:-fallback}", "${EMPTY:-used}", "${EMPTY}"],
        c: "$${KEY} costs $5",
        d: 3,
      },
      env,
      issues,
    );
    expect(issues).toEqual([]);
    expect(out).toEqual({ a: "Bearer sk-1", b: ["fallback", "used", ""], c: "${KEY} costs $5", d: 3 });
  });

  it("names the variable and where it was referenced", () => {
    const error = thrown(() =>
      parseFusionConfig(
        { providers: { openrouter: { base_url: "http://x", api_key: "${OPENROUTER_KEY}" } }, routes: [] },
        {},
        "f.yaml",
      ),
    );
    expect(error).toBe(
      "f.yaml: providers.openrouter.api_key: environment variable OPENROUTER_KEY is not set",
    );
  });

  it("reports malformed references", () => {
    const issues: string[] = [];
    expandEnv({ a: "${not valid}", b: "${OPEN" }, {}, issues);
    expect(issues).toEqual([
      'a: "${not valid}" is not a reference (expected ${NAME} or ${NAME:-default})',
      'b: "${" without a closing "}" (write $${ for a literal ${)',
    ]);
  });
});

describe("presetCatalog", () => {
  it("is the built-in catalog without a file", () => {
    expect(presetCatalog(undefined)).toBe(builtinPresetCatalog);
  });

  it("redefines and adds presets, and takes the default panel from default_preset", () => {
    const config = loadFusionConfig(file("catalog.yaml", yamlText), { OR_KEY: "k", GPU_SLOTS: "1" });
    const catalog = presetCatalog(config);
    expect(Object.keys(catalog.presets)).toEqual([
      "general-high",
      "general-budget",
      "general-fast",
      "local-fast",
    ]);
    expect(catalog.presets["general-fast"]?.analysisModels).toEqual(["~openai/gpt-mini-latest"]);
    expect(catalog.defaultPanel).toEqual(["local/llama3", "local/qwen3"]);
    expect(catalog.defaultJudge).toBe("local/llama3");
  });
});
