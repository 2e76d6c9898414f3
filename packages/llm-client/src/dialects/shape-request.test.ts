import { describe, expect, it } from "vitest";
import type { Dialect, StructuredOutput } from "./dialect.ts";
import { OPENROUTER_ONLY_FIELDS, shapeRequest } from "./shape-request.ts";

const messages = [{ role: "user", content: "Hi." }];
const jsonSchema = {
  type: "json_schema",
  json_schema: { name: "x", strict: true, schema: { type: "object" } },
};

/** A body as the pipeline and OpenRouter clients write it. */
const openRouterBody = () => ({
  model: "m",
  messages,
  temperature: 0.2,
  max_tokens: 300,
  reasoning: { effort: "high", max_tokens: 2000 },
  plugins: [{ id: "web" }],
  provider: { order: ["a"] },
  transforms: ["middle-out"],
  usage: { include: true },
  models: ["m", "n"],
  route: "fallback",
  stream_options: { include_usage: true },
});

const shape = (
  body: Record<string, unknown>,
  dialect: Dialect,
  structuredOutput: StructuredOutput = "none",
) => shapeRequest(body, { dialect, structuredOutput });

describe("shapeRequest", () => {
  const searchTool = { type: "openrouter:web_search", parameters: { max_results: 5 } };
  const functionTool = { type: "function", function: { name: "web_fetch", parameters: { type: "object" } } };

  it("openrouter: keeps its server tools", () => {
    const body = { model: "m", messages, tools: [functionTool, searchTool], tool_choice: "auto" };
    expect(shape(body, "openrouter")).toBe(body);
  });

  it.each<Dialect>(["openai", "deepseek", "openai-compatible"])(
    "%s: OpenRouter's server tools go, function tools stay",
    (dialect) => {
      const body = { model: "m", messages, tools: [functionTool, searchTool], tool_choice: "auto" };
      expect(shape(body, dialect)).toEqual({
        model: "m",
        messages,
        tools: [functionTool],
        tool_choice: "auto",
      });
      expect(shape({ model: "m", messages, tools: [searchTool], tool_choice: "auto" }, dialect)).toEqual({
        model: "m",
        messages,
      });
      // Nothing to drop: the very object.
      const plain = { model: "m", messages, tools: [functionTool], tool_choice: "none" };
      expect(shape(plain, dialect)).toBe(plain);
    },
  );

  it("openrouter: sends the body as it is, the very object", () => {
    const body = { ...openRouterBody(), response_format: jsonSchema };
    expect(shape(body, "openrouter", "json_schema")).toBe(body);
  });

  it("openai: reasoning effort and max_completion_tokens, without OpenRouter's fields", () => {
    const body = openRouterBody();
    expect(shape(body, "openai", "json_schema")).toEqual({
      model: "m",
      messages,
      temperature: 0.2,
      max_completion_tokens: 300,
      reasoning_effort: "high",
      stream_options: { include_usage: true },
    });
    // The caller's body is left alone.
    expect(body).toEqual(openRouterBody());
  });

  it("openai: keeps what the caller spelled the OpenAI way", () => {
    const shaped = shape(
      {
        model: "m",
        messages,
        max_tokens: 10,
        max_completion_tokens: 20,
        reasoning: { effort: "high" },
        reasoning_effort: "low",
        response_format: jsonSchema,
      },
      "openai",
      "json_schema",
    );
    expect(shaped).toEqual({
      model: "m",
      messages,
      max_completion_tokens: 20,
      reasoning_effort: "low",
      response_format: jsonSchema,
    });
  });

  it("openai: a reasoning object without an effort leaves no reasoning_effort", () => {
    expect(shape({ model: "m", messages, reasoning: { max_tokens: 500 } }, "openai")).toEqual({
      model: "m",
      messages,
    });
  });

  it.each(["deepseek", "openai-compatible"] as const)(
    "%s: no reasoning object and no OpenRouter fields; max_tokens stays",
    (dialect) => {
      expect(shape(openRouterBody(), dialect)).toEqual({
        model: "m",
        messages,
        temperature: 0.2,
        max_tokens: 300,
        stream_options: { include_usage: true },
      });
    },
  );

  it("drops every OpenRouter-only field outside OpenRouter", () => {
    const body = Object.fromEntries(OPENROUTER_ONLY_FIELDS.map((f) => [f, "x"]));
    for (const dialect of ["openai", "deepseek", "openai-compatible"] as const) {
      expect(shape({ ...body, model: "m" }, dialect), dialect).toEqual({ model: "m" });
    }
  });

  it("with JSON mode only, asks for json_object instead of a JSON Schema", () => {
    expect(shape({ model: "m", messages, response_format: jsonSchema }, "deepseek", "json_object")).toEqual({
      model: "m",
      messages,
      response_format: { type: "json_object" },
    });
    const jsonObject = { model: "m", messages, response_format: { type: "json_object" } };
    expect(shape(jsonObject, "deepseek", "json_object")).toBe(jsonObject);
    // Where the provider takes JSON Schemas, or says nothing of them, the caller's format goes as it is.
    for (const supported of ["json_schema", "none"] as const) {
      const body = { model: "m", messages, response_format: jsonSchema };
      expect(shape(body, "openai-compatible", supported)).toBe(body);
    }
  });

  it.each(["openai", "deepseek", "openai-compatible"] as const)(
    "%s: the same object when nothing needs to change",
    (dialect) => {
      const body = { model: "m", messages, temperature: 0, stream: true, tools: [] };
      expect(shape(body, dialect)).toBe(body);
    },
  );
});
