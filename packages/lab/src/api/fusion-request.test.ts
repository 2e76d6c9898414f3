import { describe, expect, it } from "vitest";
import { defaultSettings, settingsProblem } from "../settings.ts";
import { compareRequestBody, fusionRequestBody } from "./fusion-request.ts";
import { catalogOf } from "./models.ts";

const settings = {
  ...defaultSettings,
  prompt: "Compare ridge and lasso.",
  models: ["~openai/gpt-latest", "~google/gemini-pro-latest"],
  judge: "~anthropic/claude-opus-latest",
  maxToolCalls: 3,
};

describe("fusionRequestBody", () => {
  it("asks for a streamed fusion with progress full and a resume grace", () => {
    expect(fusionRequestBody(settings, "openrouter/fusion")).toEqual({
      model: "openrouter/fusion",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Compare ridge and lasso." }],
      plugins: [
        {
          id: "fusion",
          analysis_models: ["~openai/gpt-latest", "~google/gemini-pro-latest"],
          model: "~anthropic/claude-opus-latest",
          max_tool_calls: 3,
        },
      ],
      fusion: { progress: "full", resume_grace_ms: 30000 },
    });
  });

  it("turns the web tools off with an empty tool list and keeps max_tool_calls in range", () => {
    const [plugin] = fusionRequestBody({ ...settings, webTools: false, maxToolCalls: 99 }, "a").plugins;
    expect(plugin).toMatchObject({ tools: [], max_tool_calls: 16 });
  });

  it("compares with a plain streaming request that asks for usage", () => {
    expect(compareRequestBody("m", "p")).toEqual({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "p" }],
    });
  });

  it("says what the form still lacks", () => {
    expect(settingsProblem(settings)).toBeUndefined();
    expect(settingsProblem({ ...settings, prompt: " " })).toBe("Write a prompt.");
    expect(settingsProblem({ ...settings, models: [] })).toMatch(/1 to 8/);
    expect(settingsProblem({ ...settings, compare: true })).toMatch(/compare/);
  });
});

describe("catalogOf", () => {
  it("lists every model of the default panel, the presets and their judges once", () => {
    const catalog = catalogOf({
      object: "list",
      data: [{ id: "openrouter/fusion", fusion: { analysis_models: ["a", "b"], judge: "j" } }],
      presets: [
        { slug: "fast", description: "Fast.", analysis_models: ["b", "c"], judge: "j" },
        { slug: "odd", description: "Odd.", analysis_models: ["d"], judge: "k" },
      ],
      routes: [{ match: "*", provider: "default" }],
    });
    expect(catalog).toEqual({
      alias: "openrouter/fusion",
      models: ["a", "b", "j", "c", "d", "k"],
      presets: [
        { slug: "fast", description: "Fast.", models: ["b", "c"], judge: "j" },
        { slug: "odd", description: "Odd.", models: ["d"], judge: "k" },
      ],
      defaultPanel: ["a", "b"],
      defaultJudge: "j",
    });
    expect(catalogOf(null).models).toEqual([]);
  });
});
