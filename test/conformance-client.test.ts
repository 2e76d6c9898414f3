import { readRecording, recordingSources } from "@fusion/simulator/test-support";
import { describe, expect, it } from "vitest";
import { answerOf, expectUsage, usageServed } from "./support/conformance.ts";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { recordedTurn } from "./support/recorded.ts";

// Real provider responses (packages/simulator/recordings) replayed byte for byte by the simulator, as
// the client meets them without a deliberation: the caller's model calling the caller's own tools
// (fusion offered, not called) and a plain request proxied to the upstream.
const e2e = useStack();

/** A function tool of the caller. */
const callerTool = (name: string) => ({
  type: "function",
  function: { name, description: `The caller's ${name}`, parameters: { type: "object", properties: {} } },
});

describe("conformance: the caller's model calls the caller's own tool", () => {
  it.each([
    ["openrouter → Anthropic: no arguments key at all", "openrouter/anthropic-tool-call-no-arguments.json"],
    ["mistral: no type", "mistral/tool-call.json"],
    ["deepseek reasoner: reasoning_content beside the call", "deepseek/reasoner-tool-call.json"],
    ["xai grok: reasoning_content beside the call", "xai/grok-3-mini-tool-call.json"],
    [
      "openrouter → OpenAI: id and name first, arguments later",
      "openrouter/gpt-4o-mini-tool-call-stream.sse",
    ],
    ["deepseek reasoner: arguments in many deltas", "deepseek/reasoner-tool-call-stream.sse"],
    ["deepseek v4: reasoning_content, then the call", "deepseek/v4-flash-tool-call-stream.sse"],
    ["mistral: deltas without index or type", "mistral/tool-call-no-index-no-type-stream.sse"],
    ["groq: reasoning, then the whole call in one delta", "groq/gpt-oss-tool-call-stream.sse"],
    ["xai grok: the whole call in one delta", "xai/grok-3-mini-tool-call-stream.sse"],
    ["openai: two parallel calls", "openai/gpt-5.4-parallel-tool-calls-stream.sse"],
    ["alibaba qwen: continuation deltas with an empty id", "alibaba/qwen3-max-tool-call-stream.sse"],
    [
      "anthropic through a gateway: the first index is 1",
      "anthropic-gateway/claude-haiku-fallback-tool-call-index-1.sse",
    ],
  ])(
    "%s: the client gets the tool calls as recorded, arguments {} when there were none",
    async (_name, file) => {
      const stream = file.endsWith(".sse");
      const expected = await recordedTurn(file);
      const caller = uniqueModel("caller");
      const panelist = uniqueModel("panelist");
      // Only the deciding turn is replayed: the fusion tool is offered, the model calls the caller's tool.
      await e2e.control.script(caller, { onlyRoles: ["decider"], replay: [file] });
      const res = await e2e.post({
        model: caller,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: "user", content: "Use the tools you have." }],
        tools: [...new Set(expected.toolCalls.map((c) => c.name))].map(callerTool),
        plugins: [{ id: "fusion", analysis_models: [panelist] }],
      });
      expect(res.status).toBe(200);
      const answer = await answerOf(res, stream);
      expect(answer.error).toBeUndefined();
      expect(answer.finishReason).toBe("tool_calls");
      expect(
        answer.toolCalls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
      ).toEqual(expected.toolCalls);
      for (const call of answer.toolCalls) {
        expect(call.id).not.toBe("");
        if (!stream) expect(call.type).toBe("function");
      }
      expect(answer.content).toBe(expected.content);
      expect(answer.reasoning ?? "").toBe(expected.reasoning);
      expect(answer.fusion).toBeUndefined();
      expect(await e2e.control.requests({ model: panelist })).toEqual([]);
      expectUsage(answer.usage, await usageServed(e2e.control, [caller]));
    },
  );
});

/** Recordings of a successful answer: passed through byte for byte. Error answers become our shape. */
const answered = [...recordingSources().keys()].filter((file) => readRecording(file).status < 400);
const refused = [...recordingSources().keys()].filter((file) => readRecording(file).status >= 400);

describe("conformance: pass-through", () => {
  it.each(answered)(
    "%s: a plain request gets the recorded status, content type and body byte for byte",
    async (file) => {
      const recording = readRecording(file);
      const model = uniqueModel("plain");
      await e2e.control.script(model, { replay: [file] });
      const res = await e2e.post({
        model,
        stream: recording.format === "sse",
        messages: [{ role: "user", content: "ping" }],
      });
      expect(res.status).toBe(recording.status);
      expect(res.headers.get("content-type")).toBe(recording.contentType);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(recording.bytes);
      expect((await e2e.control.requests({ model })).map((r) => r.replayed)).toEqual([file]);
    },
  );

  // Issue 11, finding 5: an upstream's error body is not echoed (it may quote the upstream key), and its
  // 401/403 is about the gateway's credentials, not the caller's: a 502 naming the upstream.
  it.each(refused)(
    "%s: a plain request answered with an error gets its status (401/403: 502) in our error shape",
    async (file) => {
      const recording = readRecording(file);
      const model = uniqueModel("plain");
      await e2e.control.script(model, { replay: [file] });
      const res = await e2e.post({
        model,
        stream: recording.format === "sse",
        messages: [{ role: "user", content: "ping" }],
      });
      const status = recording.status === 401 || recording.status === 403 ? 502 : recording.status;
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await res.json()) as { error: { code: number; message: string } };
      expect(body.error.code).toBe(status);
      expect(body.error.message).toContain(`upstream returned ${recording.status}`);
      expect((await e2e.control.requests({ model })).map((r) => r.replayed)).toEqual([file]);
    },
  );
});
