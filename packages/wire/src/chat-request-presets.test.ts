import { describe, expect, it } from "vitest";
import { chatRequestSchemaFor, resolveFusionSettings } from "./chat-request.ts";
import { FusionError } from "./error-shape.ts";
import { builtinPresetCatalog, type PresetCatalog } from "./presets.ts";

const catalog: PresetCatalog = {
  presets: {
    ...builtinPresetCatalog.presets,
    "local-fast": {
      slug: "local-fast",
      description: "",
      analysisModels: ["local/llama3", "local/qwen3"],
      judge: "local/llama3",
    },
  },
  defaultPanel: ["local/llama3", "local/qwen3"],
  defaultJudge: "local/qwen3",
};
const messages = [{ role: "user", content: "hi" }];

describe("presets of a providers file", () => {
  it("are accepted by the request schema built for them, at the plugin and the tool", () => {
    const schema = chatRequestSchemaFor(catalog);
    expect(
      schema.safeParse({ model: "a/b", messages, plugins: [{ id: "fusion", preset: "local-fast" }] }).success,
    ).toBe(true);
    const result = schema.safeParse({
      model: "a/b",
      messages,
      tools: [{ type: "openrouter:fusion", parameters: { preset: "cloud-slow" } }],
    });
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      [
        "tools.0.parameters.preset",
        'unknown preset "cloud-slow"; expected one of general-high, general-budget, general-fast, local-fast',
      ],
    ]);
  });

  it("expand in resolveFusionSettings, and the default panel and judge come from the catalog", () => {
    const named = resolveFusionSettings({ preset: "local-fast" }, "alias", "openrouter/fusion", catalog);
    expect(named.settings.analysisModels).toEqual(["local/llama3", "local/qwen3"]);
    expect(named.writerModel).toBe("local/llama3");
    const unnamed = resolveFusionSettings({}, "alias", "openrouter/fusion", catalog);
    expect(unnamed.settings.judgeModel).toBe("local/qwen3");
    const plugin = resolveFusionSettings({}, "plugin", "caller/model", catalog);
    expect(plugin.settings.analysisModels).toEqual(["local/llama3", "local/qwen3"]);
    expect(plugin.settings.judgeModel).toBe("caller/model");
  });

  it("a preset the catalog does not know is a bad request", () => {
    expect(() => resolveFusionSettings({ preset: "local-fast" }, "alias", "x")).toThrow(FusionError);
    expect(() => resolveFusionSettings({ preset: "toString" }, "alias", "x", catalog)).toThrow(
      'unknown preset "toString"',
    );
  });
});
