import { UpstreamClient } from "@fusion/llm-client";
import { readRecording } from "@fusion/simulator/test-support";
import { type ScriptedServer, startScriptedServer } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, commonEnvSchema, parseEnv } from "./env/common-env.ts";
import { createLogger } from "./logger.ts";
import { createUpstreamFromEnv } from "./upstream-from-env.ts";

const logger = createLogger("test", "silent");
const messages = [{ role: "user", content: "Hi." }];
const openRouterFields = {
  reasoning: { effort: "high" },
  plugins: [{ id: "web" }],
  usage: { include: true },
};
// A real OpenAI-compatible server's answer (Mistral's), whatever it is asked.
const recorded = readRecording("mistral/large-text-stream.sse");

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer((_req, res) => {
    res.writeHead(recorded.status, { "content-type": recorded.contentType });
    res.end(recorded.bytes);
  });
});
afterAll(() => server?.close());

/** The upstream of the environment `vars` (no providers file), closed after `use`. */
async function withUpstream(
  vars: Record<string, string>,
  use: (upstream: ReturnType<typeof createUpstreamFromEnv>) => Promise<void> | void,
): Promise<void> {
  const upstream = createUpstreamFromEnv(parseEnv(commonEnvSchema, vars), logger, { providers: undefined });
  try {
    await use(upstream);
  } finally {
    await upstream.close();
  }
}

describe("the upstream of UPSTREAM_BASE_URL", () => {
  it("is one client, in OpenRouter's dialect, for OpenRouter (the default)", async () => {
    await withUpstream({}, (upstream) => {
      expect(upstream).toBeInstanceOf(UpstreamClient);
      expect(upstream.capabilities("any/model")).toEqual({
        dialect: "openrouter",
        structuredOutput: "json_schema",
      });
    });
  });

  it.each([
    ["https://api.openai.com/v1", { dialect: "openai", structuredOutput: "json_schema" }],
    ["https://api.deepseek.com", { dialect: "deepseek", structuredOutput: "json_object" }],
    ["http://gpu-box:11434/v1", { dialect: "openai-compatible", structuredOutput: "none" }],
  ])("takes the dialect of its URL: %s", async (url, capabilities) => {
    await withUpstream({ UPSTREAM_BASE_URL: url }, (upstream) => {
      expect(upstream.capabilities("any/model")).toEqual(capabilities);
    });
  });

  it("shapes each body for a generic server: no reasoning object, no OpenRouter fields", async () => {
    await withUpstream({ UPSTREAM_BASE_URL: server.baseUrl }, async (upstream) => {
      const turn = await upstream.streamTurn({
        model: "mistral-large-latest",
        messages,
        ...openRouterFields,
      });
      expect(turn.content.length).toBeGreaterThan(0);
      expect(server.requests.at(-1)?.json).toEqual({
        model: "mistral-large-latest",
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
    });
  });

  it("takes UPSTREAM_DIALECT and UPSTREAM_STRUCTURED_OUTPUT over its URL", async () => {
    await withUpstream(
      { UPSTREAM_BASE_URL: server.baseUrl, UPSTREAM_DIALECT: "openrouter" },
      async (upstream) => {
        expect(upstream).toBeInstanceOf(UpstreamClient);
        await upstream.streamTurn({ model: "m", messages, ...openRouterFields });
        expect(server.requests.at(-1)?.json).toMatchObject(openRouterFields);
      },
    );
    await withUpstream(
      { UPSTREAM_BASE_URL: server.baseUrl, UPSTREAM_STRUCTURED_OUTPUT: "json_object" },
      (upstream) => {
        expect(upstream.capabilities("m")).toEqual({
          dialect: "openai-compatible",
          structuredOutput: "json_object",
        });
      },
    );
    await withUpstream({ UPSTREAM_DIALECT: "", UPSTREAM_STRUCTURED_OUTPUT: " " }, (upstream) => {
      expect(upstream.capabilities("m")).toEqual({ dialect: "openrouter", structuredOutput: "json_schema" });
    });
  });

  it("refuses an unknown dialect or structured output, naming the variable", () => {
    expect(() => parseEnv(commonEnvSchema, { UPSTREAM_DIALECT: "anthropic" })).toThrow(ConfigError);
    expect(() => parseEnv(commonEnvSchema, { UPSTREAM_DIALECT: "anthropic" })).toThrow(
      'UPSTREAM_DIALECT: must be one of openrouter, openai, deepseek, openai-compatible, got "anthropic"',
    );
    expect(() => parseEnv(commonEnvSchema, { UPSTREAM_STRUCTURED_OUTPUT: "yes" })).toThrow(
      'UPSTREAM_STRUCTURED_OUTPUT: must be one of json_schema, json_object, none, got "yes"',
    );
  });
});
