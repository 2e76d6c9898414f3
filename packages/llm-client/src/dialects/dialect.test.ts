import { describe, expect, it } from "vitest";
import { dialectForUrl, resolveCapabilities } from "./dialect.ts";

describe("dialectForUrl", () => {
  it.each([
    ["https://openrouter.ai/api/v1", "openrouter"],
    ["https://eu.openrouter.ai/api/v1", "openrouter"],
    ["https://api.openai.com/v1", "openai"],
    ["https://my-resource.openai.azure.com/openai/v1", "openai"],
    ["https://api.deepseek.com", "deepseek"],
    ["https://api.deepseek.com/v1", "deepseek"],
    ["https://api.groq.com/openai/v1", "openai-compatible"],
    ["https://api.mistral.ai/v1", "openai-compatible"],
    ["http://localhost:11434/v1", "openai-compatible"],
    ["http://127.0.0.1:8000/v1", "openai-compatible"],
    // Only the host counts, and only the whole of it.
    ["https://openrouter.ai.example.com/v1", "openai-compatible"],
    ["https://proxy.example.com/api.openai.com/v1", "openai-compatible"],
    ["https://notapi.deepseek.com", "openai-compatible"],
  ] as const)("%s speaks %s", (url, dialect) => {
    expect(dialectForUrl(url)).toBe(dialect);
  });
});

describe("resolveCapabilities", () => {
  it("defaults the structured output by dialect, the dialect by URL", () => {
    expect(resolveCapabilities("https://openrouter.ai/api/v1")).toEqual({
      dialect: "openrouter",
      structuredOutput: "json_schema",
    });
    expect(resolveCapabilities("https://api.openai.com/v1")).toEqual({
      dialect: "openai",
      structuredOutput: "json_schema",
    });
    expect(resolveCapabilities("https://api.deepseek.com")).toEqual({
      dialect: "deepseek",
      structuredOutput: "json_object",
    });
    expect(resolveCapabilities("http://gpu-box:8000/v1")).toEqual({
      dialect: "openai-compatible",
      structuredOutput: "none",
    });
  });

  it("takes what is set over the defaults", () => {
    expect(resolveCapabilities("http://127.0.0.1:9/v1", { dialect: "openrouter" })).toEqual({
      dialect: "openrouter",
      structuredOutput: "json_schema",
    });
    expect(resolveCapabilities("http://vllm:8000/v1", { structuredOutput: "json_schema" })).toEqual({
      dialect: "openai-compatible",
      structuredOutput: "json_schema",
    });
    expect(
      resolveCapabilities("https://api.deepseek.com", { dialect: undefined, structuredOutput: "none" }),
    ).toEqual({ dialect: "deepseek", structuredOutput: "none" });
  });
});
