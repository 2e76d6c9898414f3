import { describe, expect, it } from "vitest";
import { compileMatch, ModelRoutes, rewriteSlug } from "./routes.ts";

describe("compileMatch", () => {
  it.each([
    ["*", "anything/at-all", true],
    ["openai/*", "openai/gpt-5", true],
    ["openai/*", "openai/", true],
    ["openai/*", "xopenai/gpt-5", false],
    ["~anthropic/*", "~anthropic/claude-opus-latest", true],
    ["~anthropic/*", "anthropic/claude", false],
    ["*/llama-*", "local/llama-3.1", true],
    ["meta.llama", "metaXllama", false],
    ["a+b(c)", "a+b(c)", true],
    ["exact/model", "exact/model-2", false],
  ])("%s matches %s: %s", (pattern, slug, expected) => {
    expect(compileMatch(pattern).test(slug)).toBe(expected);
  });
});

describe("ModelRoutes", () => {
  const routes = new ModelRoutes(
    [
      { match: "local/special", provider: "gpu", modelMap: { "local/special": "special:7b" } },
      { match: "local/*", provider: "gpu" },
      { match: "ollama/*", provider: "gpu", stripPrefix: "ollama/" },
      { match: "openai/*", provider: "openai" },
      { match: "*", provider: "openrouter" },
    ],
    { gpu: { stripPrefix: "local/", modelMap: { "local/big": "llama3:70b" } } },
  );

  it("takes the first route that matches", () => {
    expect(routes.resolve("openai/gpt-5")).toEqual({
      provider: "openai",
      match: "openai/*",
      model: "openai/gpt-5",
    });
    expect(routes.resolve("~openai/gpt-latest")).toEqual({
      provider: "openrouter",
      match: "*",
      model: "~openai/gpt-latest",
    });
  });

  it("rewrites the slug: the route's model_map, the provider's, then strip_prefix (the route's first)", () => {
    expect(routes.resolve("local/special")?.model).toBe("special:7b");
    expect(routes.resolve("local/big")?.model).toBe("llama3:70b");
    expect(routes.resolve("local/llama3")?.model).toBe("llama3");
    expect(routes.resolve("ollama/qwen3")?.model).toBe("qwen3");
  });

  it("leaves a slug that is only the prefix, and answers undefined without a match", () => {
    expect(rewriteSlug("local/", { stripPrefix: "local/" })).toBe("local/");
    expect(new ModelRoutes([{ match: "local/*", provider: "gpu" }]).resolve("openai/gpt-5")).toBeUndefined();
  });
});
