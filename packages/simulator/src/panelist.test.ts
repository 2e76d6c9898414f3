import { beforeEach, describe, expect, it } from "vitest";
import { type CompletionShape, chat, completion, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
beforeEach(async () => {
  await sim.control.clearScripts();
  await sim.control.clearRequests();
});

const webTools = [tool("web_search"), tool("web_fetch")];
type Message = Record<string, unknown>;

/** Runs one turn and, when it calls tools, appends the call and results made by `execute`. */
async function turn(
  model: string,
  messages: Message[],
  execute: (name: string, args: string) => Promise<string>,
  extra: object = {},
): Promise<{ body: CompletionShape; messages: Message[] }> {
  const body = await completion(await chat(sim.url, { model, messages, tools: webTools, ...extra }));
  const message = body.choices[0]?.message;
  const next = [...messages, { ...message }];
  for (const call of message?.tool_calls ?? []) {
    next.push({
      role: "tool",
      tool_call_id: call.id,
      content: await execute(call.function.name, call.function.arguments),
    });
  }
  return { body, messages: next };
}

/** Executes the web tools against the simulator's own search and pages. */
async function execute(name: string, args: string): Promise<string> {
  const parsed = JSON.parse(args) as { query?: string; url?: string };
  if (name === "web_search") {
    const res = await fetch(`${sim.url}/search?format=json&q=${encodeURIComponent(parsed.query ?? "")}`);
    return JSON.stringify(await res.json());
  }
  const res = await fetch(parsed.url ?? "");
  const html = await res.text();
  const content = /<p>([^<]*)<\/p>/.exec(html)?.[1] ?? "";
  return JSON.stringify({ url: parsed.url, title: "t", content });
}

describe("panelist role", () => {
  it("searches, then answers citing the sources", async () => {
    const question = "What is fusion deliberation?";
    const first = await turn("~openai/gpt-latest", [{ role: "user", content: question }], execute);
    const call = first.body.choices[0]?.message.tool_calls?.[0];
    expect(call?.function.name).toBe("web_search");
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ query: question });
    expect((await sim.control.requests())[0]?.role).toBe("panelist");

    const second = await turn("~openai/gpt-latest", first.messages, execute);
    const content = second.body.choices[0]?.message.content ?? "";
    expect(content).toMatch(/^Answer from openai\/gpt-sim-1: What is fusion deliberation\?\. Sources: /);
    expect(content).toContain(`${sim.url}/pages/result-1-what-is-fusion-deliberation`);
    expect(content.match(/http:\/\//g)).toHaveLength(5);
    expect(content).not.toContain("Fetched:");
  });

  it("searches then fetches the first result when toolSteps is 2", async () => {
    await sim.control.script("sim/deep", { toolSteps: 2 });
    let state = await turn("sim/deep", [user("Research the pros and cons")], execute);
    state = await turn("sim/deep", state.messages, execute);
    const fetchCall = state.body.choices[0]?.message.tool_calls?.[0];
    expect(fetchCall?.function.name).toBe("web_fetch");
    expect(JSON.parse(fetchCall?.function.arguments ?? "")).toEqual({
      url: `${sim.url}/pages/result-1-research-the-pros-and-cons`,
    });
    state = await turn("sim/deep", state.messages, execute);
    const content = state.body.choices[0]?.message.content ?? "";
    const page = "The result-1-research-the-pros-and-cons article explains fusion deliberation in detail.";
    expect(content).toContain(`Fetched: "${page.slice(0, 60)}".`);
  });

  it("fetches the primer when only web_fetch is offered", async () => {
    const body = await completion(
      await chat(sim.url, { model: "p", messages: [user("x")], tools: [tool("web_fetch")] }),
    );
    expect(JSON.parse(body.choices[0]?.message.tool_calls?.[0]?.function.arguments ?? "")).toEqual({
      url: `${sim.url}/pages/fusion-primer`,
    });
  });

  it("answers at once with tool_choice none or toolSteps 0", async () => {
    const none = await completion(
      await chat(sim.url, { model: "p", messages: [user("x")], tools: webTools, tool_choice: "none" }),
    );
    expect(none.choices[0]?.message.content).toBe("Answer from p: x.");
    await sim.control.script("sim/no-tools", { toolSteps: 0 });
    const zero = await completion(
      await chat(sim.url, { model: "sim/no-tools", messages: [user("x")], tools: webTools }),
    );
    expect(zero.choices[0]?.finish_reason).toBe("stop");
  });

  it("keeps calling tools when toolSteps is endless", async () => {
    await sim.control.script("sim/endless", { toolSteps: "endless" });
    let state = { messages: [user("loop")] as Message[] };
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      const next = await turn("sim/endless", state.messages, execute);
      names.push(next.body.choices[0]?.message.tool_calls?.[0]?.function.name ?? "text");
      state = next;
    }
    expect(names).toEqual(["web_search", "web_fetch", "web_search", "web_fetch", "web_search"]);
  });

  it("breaks the first tool call when scripted", async () => {
    await sim.control.script("sim/bad-json", { badToolCall: "invalid-json" });
    await sim.control.script("sim/bad-name", { badToolCall: "unknown-tool" });
    const badJson = await completion(
      await chat(sim.url, { model: "sim/bad-json", messages: [user("x")], tools: webTools }),
    );
    expect(badJson.choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe('{"query": ');
    const badName = await completion(
      await chat(sim.url, { model: "sim/bad-name", messages: [user("x")], tools: webTools }),
    );
    expect(badName.choices[0]?.message.tool_calls?.[0]?.function.name).toBe("no_such_tool");
  });
});
