import { readSseFrames } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { bodyOf, uniqueModel, useStack } from "./support/fixture.ts";
import { dataOf } from "./support/sse.ts";

const e2e = useStack();

type Fusion = {
  status: string;
  analysis?: unknown;
  responses?: Array<{ model: string }>;
  failed_models?: string[];
};
const fusionOf = (x: unknown) => (x as { fusion?: Fusion }).fusion;

describe("entry points", () => {
  it("plugin: the model calls fusion; the judge defaults to the calling model", async () => {
    const caller = uniqueModel("caller");
    const panel = [uniqueModel("p1"), uniqueModel("p2")];
    await e2e.control.script(caller, { fusion: "call" });
    const res = await e2e.client.chat.completions.create({
      model: caller,
      messages: [{ role: "user", content: "What should I use?" }],
      // @ts-expect-error OpenRouter extension
      plugins: [{ id: "fusion", analysis_models: panel }],
    });
    expect(res.choices[0]?.message.content).toContain(`Final answer from ${caller}`);
    expect(fusionOf(res)?.status).toBe("ok");
    const judgeCalls = await e2e.control.requests({ model: caller, role: "judge" });
    expect(judgeCalls.length).toBeGreaterThan(0);
    const deciderCalls = await e2e.control.requests({ model: caller, role: "decider" });
    expect(deciderCalls).toHaveLength(1);
    const offered = (
      bodyOf(deciderCalls[0]) as { tools: Array<{ function: { name: string; description: string } }> }
    ).tools;
    const fusionTool = offered.find((t) => t.function.name === "openrouter_fusion");
    expect(fusionTool?.function.description).toMatch(/only when/i);
  });

  it("server tool: parameters choose the panel and judge; streaming", async () => {
    const caller = uniqueModel("caller");
    const judge = uniqueModel("judge");
    const panel = [uniqueModel("p1")];
    await e2e.control.script(caller, { fusion: "call" });
    const stream = await e2e.client.chat.completions.create({
      model: caller,
      stream: true,
      messages: [{ role: "user", content: "Is it worth it?" }],
      tools: [
        // @ts-expect-error server tool
        { type: "openrouter:fusion", parameters: { analysis_models: panel, model: judge } },
      ],
    });
    let text = "";
    let last: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      last = chunk;
    }
    expect(text).toContain(`Final answer from ${caller}`);
    expect(fusionOf(last)?.responses?.map((r) => r.model)).toEqual(panel);
    expect(await e2e.control.requests({ model: judge, role: "judge" })).not.toHaveLength(0);
    expect(await e2e.control.requests({ model: caller, role: "judge" })).toHaveLength(0);
  });

  it("server tool with tool_choice required forces fusion without asking the model", async () => {
    const caller = uniqueModel("caller");
    await e2e.control.script(caller, { fusion: "decline" });
    const res = await e2e.client.chat.completions.create({
      model: caller,
      messages: [{ role: "user", content: "hi" }],
      // @ts-expect-error server tool
      tools: [{ type: "openrouter:fusion", parameters: { analysis_models: [uniqueModel("p")] } }],
      tool_choice: "required",
    });
    expect(res.choices[0]?.message.content).toContain("Final answer from");
    expect(fusionOf(res)?.status).toBe("ok");
    expect(await e2e.control.requests({ model: caller, role: "decider" })).toHaveLength(0);
  });

  it("the model declines the tool and answers directly, with no panel", async () => {
    const caller = uniqueModel("caller");
    const panelModel = uniqueModel("p");
    await e2e.control.script(caller, { fusion: "decline" });
    const stream = await e2e.client.chat.completions.create({
      model: caller,
      stream: true,
      messages: [{ role: "user", content: "hello there" }],
      // @ts-expect-error OpenRouter extension
      plugins: [{ id: "fusion", analysis_models: [panelModel] }],
    });
    let text = "";
    let finish: string | null | undefined;
    let fusion: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      fusion = fusionOf(chunk) ?? fusion;
    }
    expect(text).toBe(`Direct answer from ${caller}: hello there`);
    expect(finish).toBe("stop");
    expect(fusion).toBeUndefined();
    expect(await e2e.control.requests({ model: panelModel })).toHaveLength(0);
  });

  it("the caller's own tools pass through: a call to one reaches the client as tool_calls", async () => {
    const caller = uniqueModel("caller");
    await e2e.control.script(caller, { callTool: { name: "get_weather", arguments: { city: "Oslo" } } });
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "get_weather",
          description: "weather",
          parameters: { type: "object", properties: {} },
        },
      },
    ];
    const plain = await e2e.client.chat.completions.create({
      model: caller,
      messages: [{ role: "user", content: "weather in Oslo?" }],
      tools: [...tools, { type: "openrouter:fusion" } as never],
    });
    expect(plain.choices[0]?.finish_reason).toBe("tool_calls");
    expect(plain.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: "function",
      function: { name: "get_weather", arguments: JSON.stringify({ city: "Oslo" }) },
    });

    const stream = await e2e.client.chat.completions.create({
      model: caller,
      stream: true,
      messages: [{ role: "user", content: "weather in Oslo?" }],
      tools: [...tools, { type: "openrouter:fusion" } as never],
    });
    const calls: unknown[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(calls[0]).toMatchObject({ index: 0, function: { name: "get_weather" } });
    // The model saw both its caller's tool and the fusion tool.
    const seen = await e2e.control.requests({ model: caller });
    const names = (bodyOf(seen[0]) as { tools: Array<{ function: { name: string } }> }).tools.map(
      (t) => t.function.name,
    );
    expect(names).toEqual(["get_weather", "openrouter_fusion"]);
  });

  it("enabled: false makes it a plain request, proxied without the fusion tool", async () => {
    const caller = uniqueModel("caller");
    const res = await e2e.post({
      model: caller,
      messages: [{ role: "user", content: "please compare and deliberate" }],
      plugins: [{ id: "fusion", enabled: false }, { id: "web" }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; fusion?: unknown };
    expect(body.choices[0]?.message.content).toContain(`Hello from ${caller}`);
    expect(body.fusion).toBeUndefined();
    const seen = await e2e.control.requests({ model: caller });
    expect(seen).toHaveLength(1);
    expect((bodyOf(seen[0]) as { plugins?: unknown }).plugins).toEqual([{ id: "web" }]);
    expect((bodyOf(seen[0]) as { tools?: unknown }).tools).toBeUndefined();
  });

  it("a request without fusion is proxied straight through, streaming and not", async () => {
    const model = uniqueModel("plain");
    const res = await e2e.client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "ping" }],
    });
    expect(res.choices[0]?.message.content).toBe(`Hello from ${model}. You said: ping`);
    const raw = await e2e.post({ model, stream: true, messages: [{ role: "user", content: "ping" }] });
    expect(raw.headers.get("content-type")).toContain("text/event-stream");
    const data = dataOf(await readSseFrames(raw));
    expect(data.at(-1)).toBe("[DONE]");
  });

  it("the models endpoint lists the alias and the presets", async () => {
    const res = await fetch(`${e2e.stack.baseUrl}/api/v1/models`, {
      headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
    });
    const body = (await res.json()) as { data: Array<{ id: string }>; presets: Array<{ slug: string }> };
    expect(body.data.map((m) => m.id)).toContain("openrouter/fusion");
    expect(body.presets.map((p) => p.slug)).toEqual(["general-high", "general-budget", "general-fast"]);
  });
});
