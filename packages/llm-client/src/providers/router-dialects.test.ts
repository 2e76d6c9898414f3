import type { ServerResponse } from "node:http";
import { type Recording, readRecording } from "@fusion/simulator/test-support";
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamClient } from "../upstream/client.ts";
import { UpstreamError } from "../upstream/errors.ts";
import { upstreamFailure } from "../upstream/scripted-upstream.ts";
import type { ProviderConfig } from "./config.ts";
import { ProviderRouter } from "./router.ts";

// Each provider is a scripted server that answers with real recorded responses, and keeps what it
// received: the router shapes each body for the provider's dialect just before it is sent.

const messages = [{ role: "user", content: "What is 1 + 1?" }];
/** What OpenRouter clients (and the pipeline) write: OpenRouter's own fields among the standard ones. */
const openRouterFields = {
  reasoning: { effort: "low", max_tokens: 1000 },
  plugins: [{ id: "web" }],
  provider: { order: ["openai"] },
  transforms: ["middle-out"],
  usage: { include: true },
  models: ["openai/gpt-5.4"],
  route: "fallback",
};
const jsonSchema = { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" } } };

function send(res: ServerResponse, recording: Recording): void {
  res.writeHead(recording.status, { "content-type": recording.contentType });
  res.end(recording.bytes);
}

/** The text a recorded stream carries: its content deltas, joined. */
function recordedText(recording: Recording): string {
  return recording.text
    .split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice(6)) as { choices: Array<{ delta?: { content?: unknown } }> })
    .map((chunk) => chunk.choices[0]?.delta?.content)
    .filter((c): c is string => typeof c === "string")
    .join("");
}

const openAiText = readRecording("openai/gpt-4.1-text-stream.sse");
const deepSeekText = readRecording("deepseek/reasoner-stream.sse");
const mistralText = readRecording("mistral/large-text-stream.sse");

/** OpenAI as recorded: a reasoning model refuses `max_tokens`; otherwise it answers. */
function openAi(req: RecordedRequest, res: ServerResponse): void {
  const body = req.json as Record<string, unknown>;
  send(res, "max_tokens" in body ? readRecording("openai/error-400-unsupported-parameter.json") : openAiText);
}

let openAiServer: ScriptedServer;
let deepSeekServer: ScriptedServer;
let genericServer: ScriptedServer;
let router: ProviderRouter;

beforeAll(async () => {
  openAiServer = await startScriptedServer(openAi);
  deepSeekServer = await startScriptedServer((_req, res) => send(res, deepSeekText));
  genericServer = await startScriptedServer((_req, res) => send(res, mistralText));
  const provider = (name: string, baseUrl: string, more: Partial<ProviderConfig> = {}): ProviderConfig => ({
    name,
    baseUrl,
    headers: {},
    ...more,
  });
  router = new ProviderRouter({
    config: {
      providers: {
        // Scripted servers listen on 127.0.0.1, so each names the dialect it stands for.
        "as-is": provider("as-is", openAiServer.baseUrl, { dialect: "openrouter", stripPrefix: "as-is/" }),
        openai: provider("openai", openAiServer.baseUrl, { dialect: "openai", stripPrefix: "openai/" }),
        "openai-no-effort": provider("openai-no-effort", openAiServer.baseUrl, {
          dialect: "openai",
          stripPrefix: "no-effort/",
          dropFields: ["reasoning_effort"],
        }),
        deepseek: provider("deepseek", deepSeekServer.baseUrl, { dialect: "deepseek" }),
        local: provider("local", genericServer.baseUrl, { stripPrefix: "local/" }),
        "local-openrouter": provider("local-openrouter", genericServer.baseUrl, {
          dialect: "openrouter",
          stripPrefix: "routed/",
        }),
        "local-json": provider("local-json", genericServer.baseUrl, {
          structuredOutput: "json_object",
          stripPrefix: "json/",
        }),
      },
      routes: [
        { match: "as-is/*", provider: "as-is" },
        { match: "openai/*", provider: "openai" },
        { match: "gpt-*", provider: "openai" },
        { match: "no-effort/*", provider: "openai-no-effort" },
        { match: "deepseek-*", provider: "deepseek" },
        { match: "local/*", provider: "local" },
        { match: "routed/*", provider: "local-openrouter" },
        { match: "or-*", provider: "local-openrouter" },
        { match: "json/*", provider: "local-json" },
      ],
    },
    defaults: { maxRetries: 0 },
  });
});

afterAll(async () => {
  await router?.close();
  await Promise.all([openAiServer, deepSeekServer, genericServer].map((s) => s?.close()));
});

/** The JSON body of the last request a server received. */
const lastBody = (server: ScriptedServer) => server.requests.at(-1)?.json as Record<string, unknown>;

describe("request dialects", () => {
  it("openai: the call OpenAI refuses as recorded goes through once shaped", async () => {
    const body = { messages, max_tokens: 64, ...openRouterFields };
    const refused = await upstreamFailure(router.streamTurn({ ...body, model: "as-is/gpt-5.4" }));
    expect(refused).toMatchObject({ kind: "http", status: 400 });
    expect(refused.message).toContain("Use 'max_completion_tokens' instead");
    expect(lastBody(openAiServer)).toMatchObject({ max_tokens: 64, reasoning: openRouterFields.reasoning });

    const turn = await router.streamTurn({ ...body, model: "openai/gpt-5.4" });
    expect(turn.content).toBe(recordedText(openAiText));
    expect(turn.content).toBe("2");
    expect(lastBody(openAiServer)).toEqual({
      model: "gpt-5.4",
      messages,
      max_completion_tokens: 64,
      reasoning_effort: "low",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("openai: drop_fields applies after the dialect", async () => {
    await router.streamTurn({ model: "no-effort/gpt-5.4", messages, ...openRouterFields });
    expect(lastBody(openAiServer)).toEqual({
      model: "gpt-5.4",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("deepseek: no reasoning object, no OpenRouter fields, JSON mode for a JSON Schema", async () => {
    const turn = await router.streamTurn({
      model: "deepseek-reasoner",
      messages,
      max_completion_tokens: 500,
      response_format: jsonSchema,
      ...openRouterFields,
    });
    expect(turn.content).toBe(recordedText(deepSeekText));
    expect(turn.content.length).toBeGreaterThan(0);
    expect(lastBody(deepSeekServer)).toEqual({
      model: "deepseek-reasoner",
      messages,
      max_completion_tokens: 500,
      response_format: { type: "json_object" },
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("a server of no known host is generic OpenAI-compatible, unless its provider says otherwise", async () => {
    const body = { messages, temperature: 0.3, response_format: jsonSchema, ...openRouterFields };
    const generic = await router.streamTurn({ ...body, model: "local/mistral-large-latest" });
    expect(generic.content).toBe(recordedText(mistralText));
    expect(lastBody(genericServer)).toEqual({
      model: "mistral-large-latest",
      messages,
      temperature: 0.3,
      response_format: jsonSchema,
      stream: true,
      stream_options: { include_usage: true },
    });

    await router.streamTurn({ ...body, model: "routed/mistral-large-latest" });
    expect(lastBody(genericServer)).toEqual({
      ...body,
      model: "mistral-large-latest",
      stream: true,
      stream_options: { include_usage: true },
    });

    await router.streamTurn({ ...body, model: "json/mistral-large-latest" });
    expect(lastBody(genericServer)).toEqual({
      model: "mistral-large-latest",
      messages,
      temperature: 0.3,
      response_format: { type: "json_object" },
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("tells each model's dialect and structured output; a model no route matches is the router's 400", () => {
    expect(router.capabilities("openai/gpt-5.4")).toEqual({
      dialect: "openai",
      structuredOutput: "json_schema",
    });
    expect(router.capabilities("deepseek-reasoner")).toEqual({
      dialect: "deepseek",
      structuredOutput: "json_object",
    });
    expect(router.capabilities("local/llama3")).toEqual({
      dialect: "openai-compatible",
      structuredOutput: "none",
    });
    expect(router.capabilities("routed/x")).toEqual({
      dialect: "openrouter",
      structuredOutput: "json_schema",
    });
    expect(router.capabilities("json/x")).toEqual({
      dialect: "openai-compatible",
      structuredOutput: "json_object",
    });
    expect(() => router.capabilities("mistral/large")).toThrow(UpstreamError);
    expect(() => router.capabilities("mistral/large")).toThrow(
      'no provider route matches model "mistral/large"',
    );
  });

  it("a bare client sends bodies as they are: OpenRouter's dialect, with JSON Schemas", async () => {
    const client = new UpstreamClient({ baseUrl: "http://127.0.0.1:9/v1" });
    expect(client.capabilities("any/model")).toEqual({
      dialect: "openrouter",
      structuredOutput: "json_schema",
    });
    await client.close();
  });
});

describe("request dialects when proxying", () => {
  const proxied = async (raw: string) => {
    const res = await router.proxy("/chat/completions", raw);
    return { status: res.status, text: await new Response(res.body).text() };
  };

  it("sends the bytes as they came when the dialect changes nothing", async () => {
    const raw = `{"model":"gpt-5.4",  "messages":${JSON.stringify(messages)}, "stream": true}`;
    const res = await proxied(raw);
    expect(res.status).toBe(200);
    expect(res.text).toBe(openAiText.text);
    expect(openAiServer.requests.at(-1)?.body).toBe(raw);
  });

  it("re-serialises a body the dialect changes: OpenAI's spelling instead of its recorded 400", async () => {
    const raw = JSON.stringify({
      model: "gpt-5.4",
      messages,
      max_tokens: 64,
      stream: true,
      ...openRouterFields,
    });
    const res = await proxied(raw);
    expect(res.status).toBe(200);
    expect(res.text).toBe(openAiText.text);
    expect(lastBody(openAiServer)).toEqual({
      model: "gpt-5.4",
      messages,
      max_completion_tokens: 64,
      reasoning_effort: "low",
      stream: true,
    });
  });

  it("sends an OpenRouter-dialect body byte for byte, OpenRouter's fields and all", async () => {
    const raw = `{"model":"or-model", "messages":${JSON.stringify(messages)},"reasoning":{"effort":"low"}}`;
    const res = await proxied(raw);
    expect(res.text).toBe(mistralText.text);
    expect(genericServer.requests.at(-1)?.body).toBe(raw);
  });

  it("shapes a body it re-serialises for the slug as well", async () => {
    const raw = `{"model":"local/x", "messages":${JSON.stringify(messages)},"reasoning":{"effort":"low"}}`;
    await proxied(raw);
    expect(lastBody(genericServer)).toEqual({ model: "x", messages });
  });
});
