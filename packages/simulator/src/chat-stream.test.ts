import { beforeEach, describe, expect, it } from "vitest";
import { assemble, chat, completion, ssePayloads, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
beforeEach(() => sim.control.clearScripts());

const streamBody = (model: string, extra: object = {}) => ({
  model,
  stream: true,
  stream_options: { include_usage: true },
  messages: [user("tell me about streams")],
  ...extra,
});

describe("streaming", () => {
  it("streams text word by word, then finish_reason, usage and [DONE]", async () => {
    const res = await chat(sim.url, streamBody("~openai/gpt-latest"));
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const out = await assemble(res);
    expect(out.done).toBe(true);
    const [first] = out.chunks;
    expect(first?.object).toBe("chat.completion.chunk");
    expect(first?.model).toBe("openai/gpt-sim-1");
    expect(first?.choices[0]?.delta).toEqual({ role: "assistant" });
    const expected = "Hello from openai/gpt-sim-1. You said: tell me about streams";
    expect(out.content).toBe(expected);
    const contentChunks = out.chunks.filter((c) => c.choices[0]?.delta.content !== undefined);
    expect(contentChunks.map((c) => c.choices[0]?.delta.content)).toEqual(expected.match(/\S+\s*/g));
    expect(out.finishReason).toBe("stop");
    const last = out.chunks[out.chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(contentChunks.length);
    expect(new Set(out.chunks.map((c) => c.id)).size).toBe(1);
  });

  it("omits the usage chunk unless include_usage is set", async () => {
    const out = await assemble(await chat(sim.url, { ...streamBody("m"), stream_options: undefined }));
    expect(out.usage).toBeUndefined();
    expect(out.done).toBe(true);
  });

  it("streams tool calls as fragments that reassemble to valid JSON", async () => {
    await sim.control.script("sim/parallel", { parallelTools: 3 });
    const res = await chat(
      sim.url,
      streamBody("sim/parallel", { tools: [tool("web_search"), tool("web_fetch")] }),
    );
    const out = await assemble(res);
    expect(out.finishReason).toBe("tool_calls");
    expect(out.toolCalls).toHaveLength(3);
    out.toolCalls.forEach((call, i) => {
      expect(call.name).toBe("web_search");
      expect(call.id).toMatch(/^call_sim_/);
      expect(JSON.parse(call.arguments)).toEqual({ query: `tell me about streams #${i + 1}` });
    });
    for (let index = 0; index < 3; index++) {
      const fragments = out.chunks
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .filter((f) => f.index === index);
      expect(fragments.length).toBeGreaterThanOrEqual(2);
      expect(fragments[0]).toMatchObject({ type: "function", function: { name: "web_search" } });
      expect(fragments[0]?.id).toBeDefined();
      for (const later of fragments.slice(1)) {
        expect(later.id).toBeUndefined();
        expect(later.function.name).toBeUndefined();
      }
    }
    expect(out.usage?.completion_tokens).toBe(30);
  });

  it("waits tokenDelayMs between chunks", async () => {
    await sim.control.script("sim/slow", { tokenDelayMs: 15, reply: "one two three" });
    const started = Date.now();
    const out = await assemble(await chat(sim.url, streamBody("sim/slow")));
    expect(out.content).toBe("one two three");
    // role, 3 words, finish, usage, [DONE]: six delayed frames.
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });
});

describe("corrupt streams", () => {
  const corrupt = async (mode: string, stream = true) => {
    await sim.control.script("sim/corrupt", { corrupt: mode as "truncated" });
    return chat(sim.url, { ...streamBody("sim/corrupt"), stream });
  };

  it("garbage-sse sends lines that are not SSE", async () => {
    const text = await (await corrupt("garbage-sse")).text();
    expect(text).not.toContain("data:");
    expect(text.length).toBeGreaterThan(0);
  });

  it("invalid-json sends a data line that does not parse", async () => {
    const payloads = await ssePayloads(await corrupt("invalid-json"));
    expect(payloads.some((p) => p !== "[DONE]" && !isJson(p))).toBe(true);
  });

  it("truncated ends after a few content chunks without finish_reason or [DONE]", async () => {
    const out = await assemble(await corrupt("truncated"));
    expect(out.done).toBe(false);
    expect(out.finishReason).toBeNull();
    expect(out.content.length).toBeGreaterThan(0);
  });

  it("empty-choices sends only a chunk without choices", async () => {
    const out = await assemble(await corrupt("empty-choices"));
    expect(out.chunks).toHaveLength(1);
    expect(out.chunks[0]?.choices).toEqual([]);
    expect(out.done).toBe(true);
    const body = await completion(await corrupt("empty-choices", false));
    expect(body.choices).toEqual([]);
  });

  it("error-chunk sends a mid-stream error", async () => {
    const payloads = await ssePayloads(await corrupt("error-chunk"));
    const error = payloads.map((p) => (isJson(p) ? JSON.parse(p) : null)).find((c) => c?.error);
    expect(error).toMatchObject({
      error: { code: 502, message: "provider went away" },
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
    });
    expect(payloads[payloads.length - 1]).toBe("[DONE]");
  });

  it("breaks non-streaming bodies too", async () => {
    expect(isJson(await (await corrupt("invalid-json", false)).text())).toBe(false);
    const truncated = await (await corrupt("truncated", false)).text();
    expect(truncated.startsWith('{"id":"gen-sim-')).toBe(true);
    expect(isJson(truncated)).toBe(false);
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
