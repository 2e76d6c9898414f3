import { describe, expect, it } from "vitest";
import {
  chatRequestSchema,
  DEFAULT_MAX_TOOL_CALLS,
  type FusionFields,
  innerCallBody,
  resolveFusionSettings,
} from "./chat-request.ts";
import { presets, QUALITY_PANEL } from "./presets.ts";

const messages = [{ role: "user", content: "Compare Rust and Go for a CLI tool." }];

/** The issue paths of a request that must fail to parse, joined with dots. */
function issuePaths(request: unknown): string[] {
  const result = chatRequestSchema.safeParse(request);
  expect(result.success).toBe(false);
  return result.error?.issues.map((i) => i.path.join(".")) ?? [];
}

describe("chatRequestSchema: valid requests", () => {
  it("parses the alias entry point", () => {
    const parsed = chatRequestSchema.parse({ model: "openrouter/fusion", messages, stream: true });
    expect(parsed.model).toBe("openrouter/fusion");
    expect(parsed.stream).toBe(true);
  });

  it("parses the plugin entry point and keeps other plugins", () => {
    const parsed = chatRequestSchema.parse({
      model: "openai/gpt-5",
      messages,
      plugins: [
        { id: "web", max_results: 3 },
        { id: "fusion", preset: "general-fast", max_tool_calls: 4, enabled: true },
      ],
    });
    expect(parsed.plugins).toEqual([
      { id: "web", max_results: 3 },
      { id: "fusion", preset: "general-fast", max_tool_calls: 4, enabled: true },
    ]);
  });

  it("parses the tool entry point next to the caller's function tools", () => {
    const parsed = chatRequestSchema.parse({
      model: "openai/gpt-5",
      messages,
      tools: [
        { type: "openrouter:fusion", parameters: { analysis_models: ["a/b", "c/d"], tools: ["web_search"] } },
        { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
        { type: "openrouter:web_search" },
      ],
      tool_choice: { type: "function", function: { name: "openrouter_fusion" } },
    });
    expect(parsed.tools).toHaveLength(3);
  });

  it("keeps unknown fields for the upstream", () => {
    const parsed = chatRequestSchema.parse({ model: "a/b", messages, top_k: 40, provider: { order: ["x"] } });
    expect(parsed).toMatchObject({ top_k: 40, provider: { order: ["x"] } });
  });

  it.each([true, false, "full", null])(
    "accepts fusion.progress %j beside other fusion options",
    (progress) => {
      const parsed = chatRequestSchema.parse({
        model: "a/b",
        messages,
        fusion: { progress, resume_grace_ms: 30_000 },
      });
      expect(parsed.fusion).toEqual({ progress, resume_grace_ms: 30_000 });
    },
  );
});

describe("chatRequestSchema: invalid requests", () => {
  const withPlugin = (fields: Record<string, unknown>) => ({
    model: "a/b",
    messages,
    plugins: [{ id: "fusion", ...fields }],
  });
  const withTool = (parameters: Record<string, unknown>) => ({
    model: "a/b",
    messages,
    tools: [{ type: "openrouter:fusion", parameters }],
  });

  it.each([
    ["empty", []],
    ["9 models", Array.from({ length: 9 }, (_, i) => `vendor/model-${i}`)],
    ["non-strings", ["a/b", 42]],
    ["the fusion alias", ["a/b", "openrouter/fusion"]],
  ])("rejects analysis_models %s in the plugin", (_name, analysisModels) => {
    expect(issuePaths(withPlugin({ analysis_models: analysisModels }))[0]).toMatch(
      /^plugins\.0\.analysis_models/,
    );
  });

  it.each([
    ["empty", []],
    ["the fusion alias", ["openrouter/fusion"]],
  ])("rejects analysis_models %s in the tool parameters", (_name, analysisModels) => {
    expect(issuePaths(withTool({ analysis_models: analysisModels }))[0]).toMatch(
      /^tools\.0\.parameters\.analysis_models/,
    );
  });

  it("names the alias in the issue message", () => {
    const result = chatRequestSchema.safeParse(withPlugin({ analysis_models: ["openrouter/fusion"] }));
    expect(result.error?.issues[0]?.message).toContain("openrouter/fusion");
  });

  it.each([0, 17, 2.5, "8"])("rejects max_tool_calls %j", (value) => {
    expect(issuePaths(withPlugin({ max_tool_calls: value }))).toEqual(["plugins.0.max_tool_calls"]);
    expect(issuePaths(withTool({ max_tool_calls: value }))).toEqual(["tools.0.parameters.max_tool_calls"]);
  });

  it("rejects temperature 3 in the plugin and in the request", () => {
    expect(issuePaths(withPlugin({ temperature: 3 }))).toEqual(["plugins.0.temperature"]);
    expect(issuePaths({ model: "a/b", messages, temperature: 3 })).toEqual(["temperature"]);
  });

  it("rejects an unknown preset", () => {
    expect(issuePaths(withPlugin({ preset: "general-turbo" }))).toEqual(["plugins.0.preset"]);
  });

  it('rejects enabled "false" as a string', () => {
    expect(issuePaths(withPlugin({ enabled: "false" }))).toEqual(["plugins.0.enabled"]);
    expect(issuePaths(withTool({ enabled: "false" }))).toEqual(["tools.0.parameters.enabled"]);
  });

  it("rejects an unknown inner tool", () => {
    expect(issuePaths(withPlugin({ tools: ["code_interpreter"] }))[0]).toMatch(/^plugins\.0\.tools\.0/);
  });

  it.each([
    ["missing", { model: "a/b" }],
    ["empty", { model: "a/b", messages: [] }],
  ])("rejects messages %s", (_name, request) => {
    expect(issuePaths(request)).toEqual(["messages"]);
  });

  it("rejects a message with a bad role", () => {
    expect(issuePaths({ model: "a/b", messages: [{ role: "robot", content: "hi" }] })).toEqual([
      "messages.0.role",
    ]);
  });

  it.each([
    ["missing", { messages }],
    ["empty", { model: "", messages }],
  ])("rejects model %s", (_name, request) => {
    expect(issuePaths(request)).toEqual(["model"]);
  });

  it("rejects a tools entry of an unknown shape", () => {
    const paths = issuePaths({ model: "a/b", messages, tools: [{ type: "code_interpreter" }] });
    expect(paths[0]).toMatch(/^tools\.0/);
  });

  it.each(["events", "FULL", 1, "true", {}])("rejects fusion.progress %j", (progress) => {
    const result = chatRequestSchema.safeParse({ model: "a/b", messages, fusion: { progress } });
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["fusion.progress", 'must be true, false or "full"'],
    ]);
  });

  it("rejects fusion options that are not an object", () => {
    expect(issuePaths({ model: "a/b", messages, fusion: "full" })).toEqual(["fusion"]);
  });

  it("rejects n=2", () => {
    const result = chatRequestSchema.safeParse({ model: "a/b", messages, n: 2 });
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["n", "only n=1 is supported"],
    ]);
  });
});

describe("resolveFusionSettings", () => {
  it("defaults to the Quality panel with its first model as judge and writer for the alias", () => {
    const { settings, writerModel } = resolveFusionSettings({}, "alias", "openrouter/fusion");
    expect(settings).toEqual({
      analysisModels: QUALITY_PANEL,
      judgeModel: QUALITY_PANEL[0],
      maxToolCalls: DEFAULT_MAX_TOOL_CALLS,
      tools: ["web_search", "web_fetch"],
    });
    expect(writerModel).toBe(QUALITY_PANEL[0]);
  });

  it.each(["plugin", "tool"] as const)("uses the calling model as judge and writer for the %s", (entry) => {
    const { settings, writerModel } = resolveFusionSettings({}, entry, "openai/gpt-5");
    expect(settings.analysisModels).toEqual(QUALITY_PANEL);
    expect(settings.judgeModel).toBe("openai/gpt-5");
    expect(writerModel).toBe("openai/gpt-5");
  });

  it("expands a preset", () => {
    const { settings, writerModel } = resolveFusionSettings({ preset: "general-budget" }, "alias", "x");
    expect(settings.analysisModels).toEqual(presets["general-budget"].analysisModels);
    expect(settings.judgeModel).toBe(presets["general-budget"].judge);
    expect(writerModel).toBe(presets["general-budget"].judge);
  });

  it("lets explicit fields override the preset", () => {
    const fields: FusionFields = {
      preset: "general-fast",
      analysis_models: ["a/one", "b/two"],
      model: "c/judge",
      max_tool_calls: 3,
    };
    const alias = resolveFusionSettings(fields, "alias", "openrouter/fusion");
    expect(alias.settings).toMatchObject({
      analysisModels: ["a/one", "b/two"],
      judgeModel: "c/judge",
      maxToolCalls: 3,
    });
    expect(alias.writerModel).toBe("c/judge");
    expect(resolveFusionSettings(fields, "plugin", "caller/model").writerModel).toBe("caller/model");
  });

  it("maps and de-duplicates the inner tools", () => {
    const tools: FusionFields["tools"] = ["openrouter:web_search", { type: "web_search" }];
    expect(resolveFusionSettings({ tools }, "tool", "m/x").settings.tools).toEqual(["web_search"]);
    expect(
      resolveFusionSettings({ tools: [{ type: "openrouter:web_fetch" }] }, "tool", "m/x").settings.tools,
    ).toEqual(["web_fetch"]);
    expect(resolveFusionSettings({ tools: [] }, "tool", "m/x").settings.tools).toEqual([]);
  });

  it("carries the inner call parameters into innerCallBody", () => {
    const { settings } = resolveFusionSettings(
      { temperature: 0.2, max_completion_tokens: 900, reasoning: { effort: "high" } },
      "plugin",
      "m/x",
    );
    expect(settings).toMatchObject({
      temperature: 0.2,
      maxCompletionTokens: 900,
      reasoning: { effort: "high" },
    });
    expect(innerCallBody(settings)).toEqual({
      temperature: 0.2,
      max_completion_tokens: 900,
      reasoning: { effort: "high" },
    });
  });

  it("leaves innerCallBody empty without inner call parameters, but keeps temperature 0", () => {
    expect(innerCallBody(resolveFusionSettings({}, "plugin", "m/x").settings)).toEqual({});
    expect(innerCallBody(resolveFusionSettings({ temperature: 0 }, "plugin", "m/x").settings)).toEqual({
      temperature: 0,
    });
  });

  it("resolves the fields a parsed plugin carries", () => {
    const request = chatRequestSchema.parse({
      model: "caller/model",
      messages,
      plugins: [{ id: "fusion", preset: "general-fast", max_tool_calls: 2 }],
    });
    const plugin = request.plugins?.[0] as FusionFields;
    const { settings } = resolveFusionSettings(plugin, "plugin", request.model);
    expect(settings.analysisModels).toEqual(presets["general-fast"].analysisModels);
    expect(settings.maxToolCalls).toBe(2);
  });
});
