import { describe, expect, it } from "vitest";
import { scriptSchema } from "./script.ts";
import { chat, completion, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();

const webTools = [tool("web_search"), tool("web_fetch")];
const urls = ["http://127.0.0.1:9/private", "file:///etc/passwd", "http://2130706433/"];

describe("script fetchUrls", () => {
  it("accepts one to sixteen non-empty strings, whatever their scheme", () => {
    expect(scriptSchema.safeParse({ fetchUrls: urls }).success).toBe(true);
    expect(scriptSchema.safeParse({ fetchUrls: [] }).success).toBe(false);
    expect(scriptSchema.safeParse({ fetchUrls: [""] }).success).toBe(false);
    expect(scriptSchema.safeParse({ fetchUrls: Array.from({ length: 17 }, () => "x") }).success).toBe(false);
  });

  it("makes the panelist's first tool turn fetch each URL in parallel instead of searching", async () => {
    await sim.control.script("sim/fetcher", { fetchUrls: urls });
    const body = await completion(
      await chat(sim.url, { model: "sim/fetcher", messages: [user("look")], tools: webTools }),
    );
    const calls = body.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((c) => c.function.name)).toEqual(["web_fetch", "web_fetch", "web_fetch"]);
    expect(calls.map((c) => JSON.parse(c.function.arguments).url)).toEqual(urls);
  });

  it("asks for each URL fetchRepeat times in that one turn", async () => {
    await sim.control.script("sim/fetch-flood", { fetchUrls: urls, fetchRepeat: 100 });
    const body = await completion(
      await chat(sim.url, { model: "sim/fetch-flood", messages: [user("look")], tools: webTools }),
    );
    const calls = body.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(300);
    expect(new Set(calls.map((c) => c.id)).size).toBe(300);
    expect(calls.slice(0, 3).map((c) => JSON.parse(c.function.arguments).url)).toEqual(urls);
  });

  it("is ignored when web_fetch is not offered", async () => {
    await sim.control.script("sim/searcher", { fetchUrls: urls });
    const body = await completion(
      await chat(sim.url, { model: "sim/searcher", messages: [user("look")], tools: [tool("web_search")] }),
    );
    expect(body.choices[0]?.message.tool_calls?.[0]?.function.name).toBe("web_search");
  });
});

describe("panelist answer", () => {
  it("names the errors its tools returned", async () => {
    const messages = [
      user("look"),
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "a", type: "function", function: { name: "web_fetch", arguments: '{"url":"x"}' } },
          { id: "b", type: "function", function: { name: "web_fetch", arguments: '{"url":"y"}' } },
        ],
      },
      { role: "tool", tool_call_id: "a", content: JSON.stringify({ error: "refused to fetch x: no" }) },
      { role: "tool", tool_call_id: "b", content: JSON.stringify({ url: "y", title: "t", content: "page" }) },
    ];
    const body = await completion(
      await chat(sim.url, { model: "sim/plain-panelist", messages, tools: webTools }),
    );
    const content = body.choices[0]?.message.content ?? "";
    expect(content).toContain('Fetched: "page".');
    expect(content).toContain("Tool errors: refused to fetch x: no.");
  });
});
