import { beforeEach, describe, expect, it } from "vitest";
import { chat, completion, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
beforeEach(async () => {
  await sim.control.clearScripts();
  await sim.control.clearRequests();
});

const text = async (res: Response) => (await completion(res)).choices[0]?.message.content;

function fusionConversation(result: object, name = "openrouter_fusion") {
  return [
    user("Compare Postgres and MySQL"),
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name, arguments: '{"question":"x"}' } }],
    },
    { role: "tool", tool_call_id: "call_1", content: JSON.stringify(result) },
  ];
}

describe("plain role", () => {
  it("greets and echoes the question, on every chat path", async () => {
    for (const path of ["/v1/chat/completions", "/api/v1/chat/completions", "/chat/completions"]) {
      const body = await completion(
        await chat(sim.url, { model: "sim/plain", messages: [user("hi")] }, path),
      );
      expect(body.object).toBe("chat.completion");
      expect(body.id).toMatch(/^gen-sim-\d+$/);
      expect(body.model).toBe("sim/plain");
      expect(body.choices[0]?.message).toEqual({
        role: "assistant",
        content: "Hello from sim/plain. You said: hi",
      });
      expect(body.choices[0]?.finish_reason).toBe("stop");
    }
    const recorded = await sim.control.requests({ role: "plain" });
    expect(recorded.map((r) => r.path)).toEqual([
      "/v1/chat/completions",
      "/api/v1/chat/completions",
      "/chat/completions",
    ]);
  });

  it("joins the text parts of array content", async () => {
    const messages = [
      {
        role: "user",
        content: [
          { type: "text", text: "first" },
          { type: "image_url", image_url: { url: "data:," } },
          { type: "text", text: "second" },
        ],
      },
    ];
    expect(await text(await chat(sim.url, { model: "m", messages }))).toBe(
      "Hello from m. You said: first\nsecond",
    );
  });

  it("computes usage from the prompt length and emitted tokens", async () => {
    const messages = [user("one two three")];
    const body = await completion(await chat(sim.url, { model: "m", messages }));
    const prompt = Math.ceil(JSON.stringify(messages).length / 4);
    // "Hello from m. You said: one two three" is 8 word tokens.
    expect(body.usage).toMatchObject({
      prompt_tokens: prompt,
      completion_tokens: 8,
      total_tokens: prompt + 8,
    });
    expect(body.usage.cost).toBeCloseTo((prompt + 8) * 0.000001, 12);
  });

  it("names concrete models for ~ aliases", async () => {
    const answer = async (model: string) =>
      await completion(await chat(sim.url, { model, messages: [user("x")] }));
    const latest = await answer("~openai/gpt-latest");
    expect(latest.model).toBe("openai/gpt-sim-1");
    expect(latest.choices[0]?.message.content).toBe("Hello from openai/gpt-sim-1. You said: x");
    expect((await answer("~anthropic/claude")).model).toBe("anthropic/claude");
    expect((await answer("openai/gpt-latest")).model).toBe("openai/gpt-latest");
  });

  it("lets a script replace the text", async () => {
    await sim.control.script("sim/reply", { reply: "Scripted words." });
    expect(await text(await chat(sim.url, { model: "sim/reply", messages: [user("x")] }))).toBe(
      "Scripted words.",
    );
  });
});

describe("bad requests", () => {
  it("answers 400 to a body that is not JSON, or lacks model or messages", async () => {
    const raw = await fetch(`${sim.url}/v1/chat/completions`, { method: "POST", body: "{nope" });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: number } }).error.code).toBe(400);
    const noModel = await chat(sim.url, { messages: [] });
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toMatchObject({
      error: { code: 400, message: expect.stringContaining("model") },
    });
    expect((await chat(sim.url, { model: "m" })).status).toBe(400);
  });
});

describe("decider role", () => {
  const offer = [tool("openrouter_fusion")];

  it("calls the fusion tool on questions that ask for deliberation", async () => {
    const question = "Please compare Rust and Go for a CLI";
    const body = await completion(
      await chat(sim.url, { model: "~openai/gpt-latest", messages: [user(question)], tools: offer }),
    );
    const choice = body.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.tool_calls?.[0]?.function.name).toBe("openrouter_fusion");
    expect(JSON.parse(choice?.message.tool_calls?.[0]?.function.arguments ?? "")).toEqual({ question });
    expect(body.usage.completion_tokens).toBe(10);
    expect((await sim.control.requests())[0]?.role).toBe("decider");
  });

  it("calls it for long questions and answers short plain ones directly", async () => {
    const long = `${"word ".repeat(50)}?`;
    const longBody = await completion(
      await chat(sim.url, { model: "m", messages: [user(long)], tools: offer }),
    );
    expect(longBody.choices[0]?.finish_reason).toBe("tool_calls");
    const short = await completion(
      await chat(sim.url, { model: "m", messages: [user("What is 2+2?")], tools: offer }),
    );
    expect(short.choices[0]?.message.content).toBe("Direct answer from m: What is 2+2?");
  });

  it("follows the fusion script", async () => {
    await sim.control.script("sim/always", { fusion: "call" });
    await sim.control.script("sim/never", { fusion: "decline" });
    const always = await completion(
      await chat(sim.url, { model: "sim/always", messages: [user("hi")], tools: offer }),
    );
    expect(always.choices[0]?.message.tool_calls?.[0]?.function.name).toBe("openrouter_fusion");
    const never = await completion(
      await chat(sim.url, { model: "sim/never", messages: [user("Deliberate on this")], tools: offer }),
    );
    expect(never.choices[0]?.message.content).toBe("Direct answer from sim/never: Deliberate on this");
    const forbidden = await completion(
      await chat(sim.url, { model: "sim/always", messages: [user("hi")], tools: offer, tool_choice: "none" }),
    );
    expect(forbidden.choices[0]?.message.content).toBe("Direct answer from sim/always: hi");
  });

  it("calls a scripted or requested client tool once", async () => {
    await sim.control.script("sim/tool", { callTool: { name: "get_weather", arguments: { city: "Paris" } } });
    const tools = [...offer, tool("get_weather")];
    const first = await completion(await chat(sim.url, { model: "sim/tool", messages: [user("hi")], tools }));
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(call?.function.name).toBe("get_weather");
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ city: "Paris" });
    const followUp = [
      user("hi"),
      { role: "assistant", content: null, tool_calls: [{ ...call }] },
      { role: "tool", tool_call_id: call?.id, content: "sunny" },
    ];
    const second = await completion(await chat(sim.url, { model: "sim/tool", messages: followUp, tools }));
    expect(second.choices[0]?.message.content).toBe("Direct answer from sim/tool: hi");

    const marker = await completion(
      await chat(sim.url, { model: "m", messages: [user("please call:get_weather now")], tools }),
    );
    expect(marker.choices[0]?.message.tool_calls?.[0]?.function).toEqual({
      name: "get_weather",
      arguments: "{}",
    });
  });
});

describe("writer role", () => {
  it("reports the analysis and the panel it saw", async () => {
    const result = {
      status: "ok",
      analysis: {
        consensus: ["Both are fine"],
        contradictions: [],
        partial_coverage: [],
        unique_insights: [],
        blind_spots: [],
      },
      responses: [
        { model: "a/one", content: "..." },
        { model: "b/two", content: "..." },
      ],
      failed_models: ["c/three"],
    };
    const messages = fusionConversation(result);
    const body = await completion(
      await chat(sim.url, { model: "~openai/gpt-latest", messages, tools: [tool("openrouter_fusion")] }),
    );
    expect(body.choices[0]?.message.content).toBe(
      "Final answer from openai/gpt-sim-1. Consensus: Both are fine. Panel: a/one, b/two. Failed: c/three.",
    );
    expect((await sim.control.requests())[0]?.role).toBe("writer");
  });

  it("says when no analysis was available or the panel failed", async () => {
    const noAnalysis = fusionConversation({ status: "ok", responses: [{ model: "a/one", content: "x" }] });
    expect(await text(await chat(sim.url, { model: "w", messages: noAnalysis }))).toBe(
      "Final answer from w. No analysis was available. Panel: a/one.",
    );
    const failed = fusionConversation({
      status: "error",
      error: "all failed",
      failure_reason: "all_panels_failed",
      failed_models: ["a/one"],
    });
    expect(await text(await chat(sim.url, { model: "w", messages: failed }))).toBe(
      "Final answer from w. The panel could not be consulted (all_panels_failed). Failed: a/one.",
    );
  });

  it("is not triggered by other tools' results", async () => {
    const messages = fusionConversation({ status: "ok", responses: [] }, "web_search");
    expect(await text(await chat(sim.url, { model: "w", messages }))).toMatch(/^Hello from w/);
  });
});
