import { useSimulator } from "@fusion/simulator/test-support";
import type { ChatMessage, WebToolName } from "@fusion/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamClient } from "../upstream/index.ts";
import { toolFields, upstreamWebSearches } from "./server-tools.ts";
import type { ToolExecutor, ToolResult } from "./tool-executor.ts";
import { runToolLoop } from "./tool-loop.ts";

const SERVER_SEARCH = { type: "openrouter:web_search", parameters: { max_results: 3 } };

/** Web tools whose search is OpenRouter's server tool: web_search is no function, web_fetch is. */
class ServerSearchTools implements ToolExecutor {
  readonly executed: string[] = [];

  definitions(names: ReadonlyArray<WebToolName>): unknown[] {
    return names
      .filter((n) => n === "web_fetch")
      .map((name) => ({ type: "function", function: { name, parameters: { type: "object" } } }));
  }

  serverTools(names: ReadonlyArray<WebToolName>): Array<Record<string, unknown>> {
    return names.includes("web_search") ? [SERVER_SEARCH] : [];
  }

  async execute(name: string): Promise<ToolResult> {
    this.executed.push(name);
    return { name, ok: true, content: "{}", urls: [] };
  }
}

const sim = useSimulator();
let client: UpstreamClient;
let seq = 0;

beforeAll(() => {
  client = new UpstreamClient({ baseUrl: `${sim.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await client.close();
});

const question: ChatMessage[] = [{ role: "user", content: "What changed in Redis 8?" }];

function bodies(slug: string): Array<Record<string, unknown>> {
  return sim.state.listRequests({ model: slug }).map((r) => r.body as Record<string, unknown>);
}

describe("runToolLoop with server tools", () => {
  it.each([
    ["streamed", true],
    ["not streamed", false],
  ])(
    "sends the server tool beside the functions and keeps the upstream's citations (%s)",
    async (_, stream) => {
      const slug = `test/server-tools-${++seq}`;
      const tools = new ServerSearchTools();
      const out = await runToolLoop({
        client,
        tools,
        model: slug,
        messages: question,
        toolNames: ["web_search", "web_fetch"],
        maxSteps: 4,
        ...(stream ? { onTextDelta: () => {} } : {}),
      });

      const [body, ...more] = bodies(slug);
      expect(more).toEqual([]);
      expect(body?.tools).toEqual([
        { type: "function", function: { name: "web_fetch", parameters: { type: "object" } } },
        SERVER_SEARCH,
      ]);
      expect(body?.tool_choice).toBe("auto");
      // The upstream searched: no tool ran here, its citations and its count came back.
      expect(tools.executed).toEqual([]);
      expect(out.turn.annotations).toHaveLength(3);
      expect(out.serverToolUse).toEqual({
        web_search_requests: 1,
        tool_calls_requested: 0,
        tool_calls_executed: 0,
      });
    },
  );

  it("sends the server tool alone when it is the only tool, and none when web_search is not asked for", async () => {
    const only = `test/server-tools-${++seq}`;
    await runToolLoop({
      client,
      tools: new ServerSearchTools(),
      model: only,
      messages: question,
      toolNames: ["web_search"],
      maxSteps: 4,
    });
    expect(bodies(only).map((b) => [b.tools, b.tool_choice])).toEqual([[[SERVER_SEARCH], "auto"]]);

    const none = `test/server-tools-${++seq}`;
    await runToolLoop({
      client,
      tools: new ServerSearchTools(),
      model: none,
      messages: question,
      toolNames: [],
      maxSteps: 4,
    });
    const [body] = bodies(none);
    expect(body).not.toHaveProperty("tools");
    expect(body).not.toHaveProperty("tool_choice");
  });
});

describe("toolFields", () => {
  const fn = { type: "function", function: { name: "web_fetch" } };
  it("offers functions and server tools while steps are left, only the functions (with none) after", () => {
    expect(toolFields([fn], [SERVER_SEARCH], false)).toEqual({
      tools: [fn, SERVER_SEARCH],
      tool_choice: "auto",
    });
    expect(toolFields([fn], [SERVER_SEARCH], true)).toEqual({ tools: [fn], tool_choice: "none" });
    expect(toolFields([fn], [], false)).toEqual({ tools: [fn], tool_choice: "auto" });
    expect(toolFields([], [SERVER_SEARCH], true)).toEqual({ tools: [SERVER_SEARCH], tool_choice: "auto" });
    expect(toolFields([], [], true)).toEqual({});
  });
});

describe("upstreamWebSearches", () => {
  it("reads usage.server_tool_use.web_search_requests, and 0 for anything else", () => {
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    expect(upstreamWebSearches({ ...usage, server_tool_use: { web_search_requests: 2 } })).toBe(2);
    expect(upstreamWebSearches(usage)).toBe(0);
    expect(upstreamWebSearches({ ...usage, server_tool_use: null })).toBe(0);
    expect(upstreamWebSearches({ ...usage, server_tool_use: { web_search_requests: "3" } })).toBe(0);
    expect(upstreamWebSearches({ ...usage, server_tool_use: { web_search_requests: -1 } })).toBe(0);
  });
});
