import { createOpenAICompatible, type MetadataExtractor } from "@ai-sdk/openai-compatible";
import { readSseFrames, type SseFrame } from "@fusion/testing";
import { generateText, type JSONValue, streamText } from "ai";
import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * The three entry points through the clients people use: the official openai SDK, the Vercel AI SDK
 * (`@ai-sdk/openai-compatible`) and raw fetch reading SSE, each streaming and not. Panel models answer
 * slowly enough that the gateway sends `: OPENROUTER PROCESSING` comments before the first chunk.
 */
const e2e = useStack();

type JSONObject = { [key: string]: JSONValue };

type Entry = "alias" | "plugin" | "tool";
const entries: Entry[] = ["alias", "plugin", "tool"];

interface FusionCase {
  /** The `model` of the request. */
  model: string;
  /** The model that writes the answer: the judge for the alias, the calling model otherwise. */
  writer: string;
  panel: string[];
  /** Fields added to the request body: `plugins` or `tools`. */
  extra: { plugins?: JSONObject[]; tools?: JSONObject[] };
}

interface FusionField {
  status: string;
  analysis?: { consensus?: unknown[] };
  responses?: Array<{ model: string; content: string }>;
}

const prompt = "Compare ridge and lasso regression.";

async function fusionCase(entry: Entry): Promise<FusionCase> {
  const panel = [uniqueModel(`${entry}-p1`), uniqueModel(`${entry}-p2`)];
  for (const model of panel) await e2e.control.script(model, { latencyMs: 300 });
  if (entry === "alias") {
    const judge = uniqueModel("alias-judge");
    return {
      model: "openrouter/fusion",
      writer: judge,
      panel,
      extra: { plugins: [{ id: "fusion", analysis_models: panel, model: judge }] },
    };
  }
  const caller = uniqueModel(`${entry}-caller`);
  await e2e.control.script(caller, { fusion: "call" });
  const extra =
    entry === "plugin"
      ? { plugins: [{ id: "fusion", analysis_models: panel }] }
      : { tools: [{ type: "openrouter:fusion", parameters: { analysis_models: panel } }] };
  return { model: caller, writer: caller, panel, extra };
}

function expectAnswer(text: string | null | undefined, c: FusionCase): void {
  expect(text).toContain(`Final answer from ${c.writer}.`);
  expect(text).toContain(`Panel: ${c.panel.join(", ")}.`);
}

function expectFusion(fusion: unknown, c: FusionCase): void {
  const f = fusion as FusionField | undefined;
  expect(f?.status).toBe("ok");
  expect(f?.analysis?.consensus?.length).toBeGreaterThan(0);
  expect(f?.responses?.map((r) => r.model)).toEqual(c.panel);
}

function expectUsage(usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }) {
  expect(usage.prompt_tokens).toBeGreaterThan(0);
  expect(usage.completion_tokens).toBeGreaterThan(0);
  expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
}

describe("the openai SDK", () => {
  it.each(entries)("%s, not streaming", async (entry) => {
    const c = await fusionCase(entry);
    const params = {
      model: c.model,
      messages: [{ role: "user", content: prompt }],
      ...c.extra,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const { data: res, response } = await e2e.client.chat.completions.create(params).withResponse();
    expectAnswer(res.choices[0]?.message.content, c);
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.model).toBe(c.writer);
    expect(res.id).toBe(response.headers.get("x-fusion-id"));
    if (!res.usage) throw new Error("no usage");
    expectUsage(res.usage);
    expect((res.usage as { server_tool_use?: unknown }).server_tool_use).toBeDefined();
    expectFusion((res as { fusion?: unknown }).fusion, c);
  });

  it.each(entries)("%s, streaming with include_usage", async (entry) => {
    const c = await fusionCase(entry);
    const params = {
      model: c.model,
      messages: [{ role: "user", content: prompt }],
      stream: true,
      stream_options: { include_usage: true },
      ...c.extra,
    } as OpenAI.ChatCompletionCreateParamsStreaming;
    const { data: stream, response } = await e2e.client.chat.completions.create(params).withResponse();
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((ch) => ch.choices[0]?.delta.content ?? "").join("");
    expectAnswer(text, c);
    expect(new Set(chunks.map((ch) => ch.id))).toEqual(new Set([response.headers.get("x-fusion-id")]));
    expect(chunks.every((ch) => ch.object === "chat.completion.chunk")).toBe(true);
    const finishes = chunks.flatMap((ch) => ch.choices.map((choice) => choice.finish_reason).filter(Boolean));
    expect(finishes).toEqual(["stop"]);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    if (!last?.usage) throw new Error("no usage chunk");
    expectUsage(last.usage);
    expectFusion((chunks.find((ch) => "fusion" in ch) as { fusion?: unknown } | undefined)?.fusion, c);
  });
});

describe("the Vercel AI SDK (@ai-sdk/openai-compatible)", () => {
  /** Puts the response's `fusion` field into providerMetadata, streaming or not. */
  const fusionMetadata: MetadataExtractor = {
    extractMetadata: async ({ parsedBody }) => {
      const fusion = (parsedBody as { fusion?: JSONObject }).fusion;
      return fusion ? { fusion: { result: fusion } } : undefined;
    },
    createStreamExtractor: () => {
      let fusion: JSONObject | undefined;
      return {
        processChunk: (chunk) => {
          fusion = (chunk as { fusion?: JSONObject }).fusion ?? fusion;
        },
        buildMetadata: () => (fusion ? { fusion: { result: fusion } } : undefined),
      };
    },
  };

  /**
   * Plugins travel as providerOptions (keys the provider does not know are sent in the body). The
   * server tool cannot: the SDK writes its own `tools` after them, so it is added with
   * transformRequestBody.
   */
  function provider(c: FusionCase) {
    const tools = c.extra.tools;
    const fusion = createOpenAICompatible({
      name: "fusion",
      baseURL: `${e2e.stack.baseUrl}/api/v1`,
      apiKey: e2e.stack.apiKey,
      includeUsage: true,
      metadataExtractor: fusionMetadata,
      ...(tools ? { transformRequestBody: (body: Record<string, unknown>) => ({ ...body, tools }) } : {}),
    });
    const providerOptions: Record<string, JSONObject> = c.extra.plugins
      ? { fusion: { plugins: c.extra.plugins } }
      : {};
    return { model: fusion(c.model), providerOptions };
  }

  function expectSdkUsage(usage: {
    inputTokens: number | undefined;
    outputTokens: number | undefined;
    totalTokens: number | undefined;
  }) {
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.totalTokens).toBe((usage.inputTokens ?? 0) + (usage.outputTokens ?? 0));
  }

  it.each(entries)("%s with generateText", async (entry) => {
    const c = await fusionCase(entry);
    const { model, providerOptions } = provider(c);
    const result = await generateText({
      model,
      prompt,
      providerOptions,
      maxRetries: 0,
      include: { responseBody: true },
    });
    expectAnswer(result.text, c);
    expect(result.finishReason).toBe("stop");
    expect(result.response.modelId).toBe(c.writer);
    expect(result.response.headers?.["x-fusion-id"]).toBe(result.response.id);
    expect(result.warnings ?? []).toEqual([]);
    expectSdkUsage(result.usage);
    expectFusion((result.response.body as { fusion?: unknown }).fusion, c);
    expectFusion(result.providerMetadata?.fusion?.result, c);
  });

  it.each(entries)("%s with streamText", async (entry) => {
    const c = await fusionCase(entry);
    const { model, providerOptions } = provider(c);
    const errors: unknown[] = [];
    const result = streamText({
      model,
      prompt,
      providerOptions,
      maxRetries: 0,
      include: { rawChunks: true },
      onError: ({ error }) => {
        errors.push(error);
      },
    });
    let text = "";
    const raw: unknown[] = [];
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") text += part.text;
      else if (part.type === "raw") raw.push(part.rawValue);
      else if (part.type === "error") errors.push(part.error);
    }
    expect(errors).toEqual([]);
    expectAnswer(text, c);
    expect(await result.text).toBe(text);
    expect(await result.finishReason).toBe("stop");
    expectSdkUsage(await result.usage);
    expect((await result.response).modelId).toBe(c.writer);
    expectFusion((await result.providerMetadata)?.fusion?.result, c);
    expectFusion((raw.find((r) => (r as { fusion?: unknown }).fusion) as { fusion?: unknown })?.fusion, c);
  });
});

describe("raw fetch", () => {
  const post = (c: FusionCase, extra: Record<string, unknown> = {}) =>
    e2e.post({ model: c.model, messages: [{ role: "user", content: prompt }], ...c.extra, ...extra });

  it.each(entries)("%s, not streaming", async (entry) => {
    const c = await fusionCase(entry);
    const res = await post(c);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as OpenAI.ChatCompletion & { fusion?: unknown };
    expect(body.id).toBe(res.headers.get("x-fusion-id"));
    expect(body.object).toBe("chat.completion");
    expectAnswer(body.choices[0]?.message.content, c);
    expect(body.choices[0]?.finish_reason).toBe("stop");
    if (!body.usage) throw new Error("no usage");
    expectUsage(body.usage);
    expectFusion(body.fusion, c);
  });

  it.each(entries)("%s, streaming: keep-alive comments first, then chunks, then [DONE]", async (entry) => {
    const c = await fusionCase(entry);
    const sent = performance.now();
    const res = await post(c, { stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = await readSseFrames(res);

    const keepAlives = frames.filter((f) => f.comment === " OPENROUTER PROCESSING");
    const data = frames.filter((f): f is SseFrame & { data: string } => f.data !== undefined);
    expect(keepAlives.length).toBeGreaterThan(0);
    expect(frames[0]).toEqual({ comment: " OPENROUTER PROCESSING", at: expect.any(Number) });
    // The first comment arrived while the panel was still working, not buffered with the answer.
    const first = frames[0]?.at ?? 0;
    const done = data.at(-1);
    expect(done?.data).toBe("[DONE]");
    expect((done?.at ?? 0) - first).toBeGreaterThan(250);
    expect(first - sent).toBeLessThan((done?.at ?? 0) - sent);

    const chunks = data.slice(0, -1).map((i) => JSON.parse(i.data) as OpenAI.ChatCompletionChunk);
    expect(chunks.every((ch) => ch.id === res.headers.get("x-fusion-id"))).toBe(true);
    expectAnswer(chunks.map((ch) => ch.choices[0]?.delta.content ?? "").join(""), c);
    const final = chunks.find((ch) => ch.choices[0]?.finish_reason);
    expect(final?.choices[0]?.finish_reason).toBe("stop");
    expectFusion((final as { fusion?: unknown } | undefined)?.fusion, c);
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    if (!usageChunk?.usage) throw new Error("no usage chunk");
    expectUsage(usageChunk.usage);
  });
});
