import { describe, expect, it } from "vitest";
import {
  answerOf,
  type ClientAnswer,
  expectUsage,
  forcedFusion,
  messagesOf,
  usageServed,
  userTextOf,
} from "./support/conformance.ts";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { recordedTurn, splitInlineThinking } from "./support/recorded.ts";

// Real provider responses (packages/simulator/recordings, provenance in sources.json) replayed byte
// for byte by the simulator, through every stage of a fusion: as a panelist, as the judge, as the
// writer. Panel and judge calls are never streamed by the service, so they replay `.json` recordings;
// the writer streams when the client does, so it replays both.
const e2e = useStack();

/** A distinctive piece of a reasoning text: what must never show up where answers go. */
const sample = (reasoning: string) => reasoning.trim().slice(0, 60);

/** The models whose answers a fusion result holds. */
const respondents = (fusion: Record<string, unknown> | undefined) =>
  ((fusion?.responses ?? []) as Array<{ model: string }>).map((r) => r.model);

async function servedTo(model: string): Promise<Array<string | undefined>> {
  return (await e2e.control.requests({ model })).map((r) => r.replayed);
}

/** A forced fusion of fresh models; `script` replays recordings for one of them. */
async function fuse(stream: boolean, script: { role: "panel" | "judge" | "writer"; replay: string[] }) {
  const models = {
    writer: uniqueModel("writer"),
    judge: uniqueModel("judge"),
    panelist: uniqueModel("panelist"),
  };
  const scripted = script.role === "panel" ? models.panelist : models[script.role];
  await e2e.control.script(scripted, { replay: script.replay });
  const res = await e2e.post(
    forcedFusion({ writer: models.writer, judge: models.judge, panel: [models.panelist], stream }),
  );
  expect(res.status).toBe(200);
  const answer = await answerOf(res, stream);
  const usage = await usageServed(e2e.control, Object.values(models));
  return { ...models, answer, usage };
}

const reasoningOf = async (files: string[]) =>
  (await Promise.all(files.map(recordedTurn))).map((t) => t.reasoning);

describe("conformance: a recorded model as a panelist", () => {
  it.each([
    [
      "openrouter → Anthropic: reasoning, signed reasoning_details",
      ["openrouter/anthropic-thinking-signature.json"],
    ],
    [
      "openrouter → Anthropic: a tool call without arguments, then an answer",
      ["openrouter/anthropic-tool-call-no-arguments.json", "openrouter/anthropic-thinking-signature.json"],
    ],
    [
      "openrouter → Google: reasoning_details holding only a signature",
      ["openrouter/gemini-reasoning-details-signature-only.json"],
    ],
    ["openrouter → Z.AI: reasoning and reasoning_details", ["openrouter/glm-reasoning.json"]],
    ["openrouter: a body that starts with whitespace", ["openrouter/nonstream-leading-whitespace.json"]],
    ["openrouter web plugin: url_citation annotations", ["openrouter/web-search-annotations.json"]],
    [
      "deepseek reasoner: a tool call with reasoning_content, then an answer",
      ["deepseek/reasoner-tool-call.json", "zai/glm-4.7-thinking.json"],
    ],
    ["mistral magistral: thinking and text content parts", ["mistral/magistral-thinking-content-parts.json"]],
    [
      "mistral: a tool call without type, then an answer",
      ["mistral/tool-call.json", "mistral/magistral-thinking-content-parts.json"],
    ],
    ["z.ai: reasoning_content", ["zai/glm-4.7-thinking.json"]],
    ["groq: reasoning", ["groq/gpt-oss-reasoning.json"]],
    [
      "xai grok: a tool call with reasoning_content, then an answer",
      ["xai/grok-3-mini-tool-call.json", "cerebras/gpt-oss-120b-reasoning.json"],
    ],
    ["together: reasoning inline in a leading <think> block", ["together/deepseek-r1.json"]],
    ["cerebras: reasoning", ["cerebras/gpt-oss-120b-reasoning.json"]],
    ["perplexity: citations", ["perplexity/sonar-citations.json"]],
  ])("%s: its text reaches the judge, its reasoning does not", async (_name, replay) => {
    const { judge, panelist, answer, usage } = await fuse(false, { role: "panel", replay });
    // A leading <think> block is reasoning too: the judge gets only the answer after it.
    const inline = splitInlineThinking((await recordedTurn(replay.at(-1) as string)).content);
    const text = inline.answer.trim();
    expect(text).not.toBe("");
    expect(await servedTo(panelist)).toEqual(replay);
    expect(answer.fusion?.status).toBe("ok");
    expect(answer.fusion?.responses).toEqual([{ model: panelist, content: text }]);
    const [judged] = await e2e.control.requests({ model: judge });
    const judgeInput = userTextOf(judged);
    expect(judgeInput).toContain(text);
    for (const reasoning of [...(await reasoningOf(replay)), inline.thinking]) {
      if (!reasoning) continue;
      expect(judgeInput).not.toContain(sample(reasoning));
      expect(JSON.stringify(answer.fusion)).not.toContain(sample(reasoning));
    }
    expectUsage(answer.usage, usage);
  });

  it("recorded error bodies of three providers fail their panelists, named in failed_models", async () => {
    const errors = [
      "openai/error-401-invalid-api-key.json",
      "openai/error-400-unsupported-parameter.json",
      "groq/error-404-model-not-found.json",
      "groq/error-400-tool-use-failed.json",
      "openrouter/error-400-provider-returned-error.json",
      "openrouter/error-429-upstream-rate-limited.json",
    ];
    const failing = errors.map(() => uniqueModel("failing"));
    for (const [i, model] of failing.entries())
      await e2e.control.script(model, { replay: [errors[i] as string] });
    const healthy = uniqueModel("healthy");
    const res = await e2e.post(
      forcedFusion({
        writer: uniqueModel("writer"),
        judge: uniqueModel("judge"),
        panel: [...failing, healthy],
        stream: false,
      }),
    );
    expect(res.status).toBe(200);
    const { fusion } = await answerOf(res, false);
    expect(fusion?.status).toBe("ok");
    expect(fusion?.failed_models).toEqual(failing);
    expect(respondents(fusion)).toEqual([healthy]);
    const { panel } = (fusion?.breakdown ?? { panel: [] }) as {
      panel: Array<{ model: string; status: string; error?: string }>;
    };
    for (const [i, model] of failing.entries()) {
      const status = (errors[i] as string).match(/error-(\d{3})/)?.[1];
      expect(panel.find((s) => s.model === model)).toMatchObject({
        status: "failed",
        error: expect.stringContaining(`[${status}]`),
      });
    }
  });
});

describe("conformance: a recorded model as the judge", () => {
  it.each([
    [
      "openrouter → Anthropic: reasoning and reasoning_details",
      ["openrouter/anthropic-thinking-signature.json"],
    ],
    [
      "deepseek reasoner: a tool call, then prose",
      ["deepseek/reasoner-tool-call.json", "zai/glm-4.7-thinking.json"],
    ],
    ["mistral magistral: content parts", ["mistral/magistral-thinking-content-parts.json"]],
    ["z.ai: reasoning_content", ["zai/glm-4.7-thinking.json"]],
    ["groq: JSON that is not an analysis, with reasoning", ["groq/gpt-oss-reasoning.json"]],
    [
      "xai grok: a tool call, then prose",
      ["xai/grok-3-mini-tool-call.json", "cerebras/gpt-oss-120b-reasoning.json"],
    ],
    ["perplexity: citations", ["perplexity/sonar-citations.json"]],
    ["openai: 400 unsupported parameter", ["openai/error-400-unsupported-parameter.json"]],
    ["groq: 400 tool_use_failed", ["groq/error-400-tool-use-failed.json"]],
    ["openrouter: 400 provider returned error", ["openrouter/error-400-provider-returned-error.json"]],
  ])(
    "%s: no analysis fits, the judge fails gracefully and the writer still answers",
    async (_name, replay) => {
      const { judge, writer, panelist, answer, usage } = await fuse(false, { role: "judge", replay });
      const served = await servedTo(judge);
      expect(served.length).toBeGreaterThanOrEqual(replay.length);
      expect(answer.fusion?.status).toBe("ok");
      expect(answer.fusion?.analysis).toBeUndefined();
      expect(respondents(answer.fusion)).toEqual([panelist]);
      expect(answer.fusion?.breakdown).toMatchObject({ judge: { model: judge, status: "failed" } });
      expect(answer.content).toContain(`Final answer from ${writer}`);
      const writerInput = JSON.stringify(messagesOf((await e2e.control.requests({ model: writer }))[0]));
      for (const reasoning of await reasoningOf(replay)) {
        if (!reasoning) continue;
        expect(writerInput).not.toContain(sample(reasoning));
        expect(answer.content).not.toContain(sample(reasoning));
      }
      expectUsage(answer.usage, usage);
    },
  );
});

/** What a writer replaying `file` must have given the client. */
async function expectWriterAnswer(answer: ClientAnswer, file: string, writer: string) {
  const expected = await recordedTurn(file);
  expect(await servedTo(writer)).toEqual([file]);
  expect(answer.error).toBeUndefined();
  expect(answer.content).toBe(expected.content);
  expect(answer.reasoning ?? "").toBe(expected.reasoning);
  expect(answer.finishReason).toBe(expected.finishReason ?? "stop");
  expect(answer.fusion?.status).toBe("ok");
}

describe("conformance: a recorded model as the writer", () => {
  it.each([
    [
      "openrouter → Anthropic: reasoning, a signature in its own delta",
      "openrouter/anthropic-thinking-signature-stream.sse",
    ],
    [
      "openrouter → OpenAI o3: encrypted reasoning_details only",
      "openrouter/openai-o3-encrypted-reasoning-stream.sse",
    ],
    [
      "openrouter → Bedrock: a usage chunk with choices: []",
      "openrouter/anthropic-bedrock-usage-chunk-empty-choices.sse",
    ],
    ["openrouter web plugin: annotations in deltas", "openrouter/web-search-annotations-stream.sse"],
    ["deepseek reasoner: reasoning_content deltas", "deepseek/reasoner-stream.sse"],
    ["mistral magistral: thinking content parts", "mistral/magistral-thinking-content-parts-stream.sse"],
    ["mistral large: plain text", "mistral/large-text-stream.sse"],
    ["z.ai: reasoning_content, no finish_reason until the end", "zai/glm-4.7-thinking-stream.sse"],
    ["xai grok: reasoning_content, a usage-only last chunk", "xai/grok-3-mini-reasoning-stream.sse"],
    ["azure: a first chunk with empty choices", "azure/model-router-stream.sse"],
    ["openai: a usage-only last chunk", "openai/gpt-4.1-text-stream.sse"],
    ["cerebras: no [DONE]", "cerebras/llama-stream-no-done.sse"],
    ["perplexity: citations and usage on every chunk", "perplexity/sonar-citations-stream.sse"],
    ["together: reasoning inline in <think>", "together/deepseek-r1-think-tags-stream.sse"],
  ])(
    "streaming, %s: the client gets its content, and its reasoning as delta.reasoning",
    async (_name, file) => {
      const { writer, answer, usage } = await fuse(true, { role: "writer", replay: [file] });
      expect(answer.done).toBe(true);
      await expectWriterAnswer(answer, file, writer);
      expectUsage(answer.usage, usage);
    },
  );

  it.each([
    [
      "openrouter → Anthropic: reasoning and signed reasoning_details",
      "openrouter/anthropic-thinking-signature.json",
    ],
    [
      "openrouter → Google: reasoning_details holding only a signature",
      "openrouter/gemini-reasoning-details-signature-only.json",
    ],
    ["openrouter → Z.AI: long reasoning", "openrouter/glm-reasoning.json"],
    ["openrouter: a body that starts with whitespace", "openrouter/nonstream-leading-whitespace.json"],
    ["openrouter web plugin: annotations", "openrouter/web-search-annotations.json"],
    ["mistral magistral: thinking content parts", "mistral/magistral-thinking-content-parts.json"],
    ["z.ai: reasoning_content", "zai/glm-4.7-thinking.json"],
    ["groq: reasoning", "groq/gpt-oss-reasoning.json"],
    ["cerebras: reasoning", "cerebras/gpt-oss-120b-reasoning.json"],
    ["perplexity: citations", "perplexity/sonar-citations.json"],
    ["together: reasoning inline in <think>", "together/deepseek-r1.json"],
  ])(
    "non-streaming, %s: message.content and message.reasoning as OpenRouter returns them",
    async (_name, file) => {
      const { writer, answer, usage } = await fuse(false, { role: "writer", replay: [file] });
      await expectWriterAnswer(answer, file, writer);
      const expected = await recordedTurn(file);
      expect(answer.model).toBe(expected.model);
      if (expected.reasoningFields.reasoning_details !== undefined) {
        expect(answer.reasoningDetails).toEqual(expected.reasoningFields.reasoning_details);
      }
      expectUsage(answer.usage, usage);
    },
  );

  it.each([
    [
      "openrouter → Minimax: an error chunk with finish_reason null",
      "openrouter/minimax-error-chunk-finish-null.sse",
    ],
    ["groq: an `event: error` frame mid-stream", "groq/gpt-oss-event-error-mid-stream.sse"],
  ])("streaming, %s: the client gets an error chunk, no reasoning as content", async (_name, file) => {
    const { answer } = await fuse(true, { role: "writer", replay: [file] });
    expect(answer.done).toBe(true);
    expect(answer.error).toBeDefined();
    expect(answer.finishReason).toBe("error");
    expect(answer.content).toBe("");
  });

  it("non-streaming, openai's recorded 400: the client gets the error in our shape", async () => {
    const writer = uniqueModel("writer");
    await e2e.control.script(writer, { replay: ["openai/error-400-unsupported-parameter.json"] });
    const res = await e2e.post(
      forcedFusion({ writer, judge: uniqueModel("judge"), panel: [uniqueModel("panelist")], stream: false }),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(400);
    expect(body.error.message).toContain("[400]");
  });
});
