import { setTimeout as sleep } from "node:timers/promises";
import type { Script } from "@fusion/simulator";
import { useSimulator } from "@fusion/simulator/test-support";
import type { ChatMessage, Usage, WebToolName } from "@fusion/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallOptions, UpstreamClient, UpstreamError } from "../upstream/index.ts";
import type { ToolExecutor, ToolResult } from "./tool-executor.ts";
import { runToolLoop, type ToolLoopInput } from "./tool-loop.ts";

interface ExecutedCall {
  name: string;
  args: Record<string, unknown>;
  startedAt: number;
  endedAt: number;
}

/** A fake web-tools executor: records each call and answers with `answer(name, args)` after `delayMs`. */
class FakeTools implements ToolExecutor {
  readonly calls: ExecutedCall[] = [];
  readonly definitionRequests: Array<ReadonlyArray<WebToolName>> = [];
  readonly answer: (name: string, args: Record<string, unknown>) => Partial<ToolResult>;
  readonly delayMs: (args: Record<string, unknown>) => number;

  constructor(
    answer: (name: string, args: Record<string, unknown>) => Partial<ToolResult> = () => ({}),
    delayMs: (args: Record<string, unknown>) => number = () => 0,
  ) {
    this.answer = answer;
    this.delayMs = delayMs;
  }

  definitions(names: ReadonlyArray<WebToolName>): unknown[] {
    this.definitionRequests.push(names);
    return names.map((name) => ({
      type: "function",
      function: { name, description: `the ${name} tool`, parameters: { type: "object", properties: {} } },
    }));
  }

  async execute(name: string, argumentsJson: string): Promise<ToolResult> {
    const args = JSON.parse(argumentsJson) as Record<string, unknown>;
    const startedAt = performance.now();
    await sleep(this.delayMs(args));
    const result: ToolResult = {
      name,
      ok: true,
      content: `${name} result for ${JSON.stringify(args)}`,
      urls: [],
      ...this.answer(name, args),
    };
    this.calls.push({ name, args, startedAt, endedAt: performance.now() });
    return result;
  }
}

/** The real client, also remembering the usage of every turn it returned. */
class RecordingClient extends UpstreamClient {
  readonly usages: Usage[] = [];

  override async complete(body: Record<string, unknown>, options?: CallOptions) {
    const result = await super.complete(body, options);
    this.usages.push(result.turn.usage);
    return result;
  }
}

const sim = useSimulator();
let client: RecordingClient;
let modelSeq = 0;

beforeAll(() => {
  client = new RecordingClient({ baseUrl: `${sim.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await client.close();
});

/** A model slug of its own for each test, so that scripts and recorded requests do not mix. */
function model(script?: Script): string {
  const slug = `test/panelist-${++modelSeq}`;
  if (script) sim.state.setScript(slug, script);
  return slug;
}

function requestsOf(slug: string): Array<Record<string, unknown>> {
  return sim.state.listRequests({ model: slug }).map((r) => r.body as Record<string, unknown>);
}

const question: ChatMessage[] = [{ role: "user", content: "How do Redis Streams handle consumer groups?" }];

function loop(
  overrides: Partial<ToolLoopInput> & Pick<ToolLoopInput, "model" | "tools">,
): ReturnType<typeof runToolLoop> {
  return runToolLoop({
    client,
    messages: question,
    toolNames: ["web_search", "web_fetch"],
    maxSteps: 8,
    ...overrides,
  });
}

describe("runToolLoop", () => {
  it("takes one tool step by default, then answers", async () => {
    const slug = model();
    const tools = new FakeTools();
    const out = await loop({ model: slug, tools });

    expect(out.steps).toBe(1);
    expect(out.turn.toolCalls).toEqual([]);
    expect(out.turn.content).toMatch(/^Answer from test\/panelist-\d+/);
    expect(tools.calls.map((c) => c.name)).toEqual(["web_search"]);
    expect(tools.definitionRequests).toEqual([["web_search", "web_fetch"]]);

    const requests = requestsOf(slug);
    expect(requests.map((b) => b.tool_choice)).toEqual(["auto", "auto"]);
    expect(out.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
    expect(requests[1]?.messages).toEqual(out.messages);
  });

  it("makes the model answer once maxSteps tool steps are used up", async () => {
    const slug = model({ toolSteps: 3 });
    const tools = new FakeTools();
    const out = await loop({ model: slug, tools, maxSteps: 2 });

    const requests = requestsOf(slug);
    expect(requests).toHaveLength(3);
    expect(requests.map((b) => b.tool_choice)).toEqual(["auto", "auto", "none"]);
    expect(requests.every((b) => Array.isArray(b.tools) && b.tools.length === 2)).toBe(true);
    expect(out.steps).toBe(2);
    expect(tools.calls).toHaveLength(2);
    expect(out.turn.toolCalls).toEqual([]);
    expect(out.turn.content).toMatch(/^Answer from /);
  });

  it("runs at most maxCallsPerTurn calls of one turn and answers the others with a tool error", async () => {
    const slug = model({ parallelTools: 12 });
    const tools = Object.assign(new FakeTools(), { maxCallsPerTurn: 3 });
    const out = await loop({ model: slug, tools, toolNames: ["web_search"] });

    expect(tools.calls).toHaveLength(3);
    const toolMessages = out.messages.filter((m) => m.role === "tool");
    expect(toolMessages).toHaveLength(12);
    for (const m of toolMessages.slice(3)) {
      expect(JSON.parse(String(m.content))).toEqual({
        error: "not run: at most 3 tool calls are run per turn; call fewer tools at once",
      });
    }
    expect(out.serverToolUse.tool_calls_requested).toBe(12);
    expect(out.serverToolUse.tool_calls_executed).toBe(3);
  });

  it("caps a turn at 8 calls when the executor sets no cap", async () => {
    const slug = model({ parallelTools: 10 });
    const tools = new FakeTools();
    await loop({ model: slug, tools, toolNames: ["web_search"] });
    expect(tools.calls).toHaveLength(8);
  });

  it("runs the tool calls of one turn concurrently and feeds them back in order", async () => {
    const slug = model({ parallelTools: 4 });
    // The first call takes longest, so finishing order is the reverse of calling order.
    const delays = [160, 120, 80, 40];
    const tools = new FakeTools(undefined, (args) => {
      const n = Number(/#(\d)$/.exec(String(args.query))?.[1]);
      return delays[n - 1] ?? 0;
    });
    const out = await loop({ model: slug, tools, toolNames: ["web_search"] });

    expect(tools.calls).toHaveLength(4);
    // Concurrent, not one after another: every call started before the first of them ended.
    const firstEnd = Math.min(...tools.calls.map((c) => c.endedAt));
    expect(tools.calls.every((c) => c.startedAt < firstEnd)).toBe(true);

    const [, assistant, ...toolMessages] = out.messages;
    const ids = assistant?.tool_calls?.map((tc) => tc.id) ?? [];
    expect(ids).toHaveLength(4);
    expect(toolMessages.map((m) => m.tool_call_id)).toEqual(ids);
    expect(toolMessages.map((m) => /#(\d)/.exec(String(m.content))?.[1])).toEqual(["1", "2", "3", "4"]);
    // The upstream saw the same order.
    const second = requestsOf(slug)[1]?.messages as ChatMessage[];
    expect(second.filter((m) => m.role === "tool").map((m) => m.tool_call_id)).toEqual(ids);
  });

  it("sums the usage of every call", async () => {
    const slug = model({ toolSteps: 2 });
    const before = client.usages.length;
    const out = await loop({ model: slug, tools: new FakeTools() });

    const usages = client.usages.slice(before);
    expect(usages).toHaveLength(3);
    const sum = (field: "prompt_tokens" | "completion_tokens" | "total_tokens" | "cost") =>
      usages.reduce((acc, u) => acc + (u[field] ?? 0), 0);
    expect(sum("prompt_tokens")).toBeGreaterThan(0);
    expect(out.usage.prompt_tokens).toBe(sum("prompt_tokens"));
    expect(out.usage.completion_tokens).toBe(sum("completion_tokens"));
    expect(out.usage.total_tokens).toBe(sum("total_tokens"));
    expect(out.usage.cost).toBeCloseTo(sum("cost"), 9);
  });

  it("counts requested and executed tool calls and web searches", async () => {
    const slug = model({ toolSteps: 2, parallelTools: 2 });
    // Step 1 searches twice, step 2 fetches twice; one fetch fails.
    const tools = new FakeTools((name, args) =>
      name === "web_fetch" && String(args.url).endsWith("-2") ? { ok: false, content: "fetch failed" } : {},
    );
    const out = await loop({ model: slug, tools });

    expect(tools.calls.map((c) => c.name)).toEqual(["web_search", "web_search", "web_fetch", "web_fetch"]);
    expect(out.serverToolUse).toEqual({
      tool_calls_requested: 4,
      tool_calls_executed: 3,
      web_search_requests: 2,
    });
  });

  it("collects the urls of successful results without duplicates", async () => {
    const slug = model({ toolSteps: 2, parallelTools: 2 });
    const tools = new FakeTools((name, args) => {
      if (name === "web_search") {
        return {
          urls: [
            { url: "https://a.example/", title: `A from ${String(args.query).slice(-2)}` },
            { url: `https://b.example/${String(args.query).slice(-1)}` },
          ],
        };
      }
      if (String(args.url).endsWith("-2")) return { ok: false, urls: [{ url: "https://failed.example/" }] };
      return { urls: [{ url: "https://a.example/", title: "A again" }, { url: "https://c.example/" }] };
    });
    const out = await loop({ model: slug, tools });

    expect(out.urls).toEqual([
      { url: "https://a.example/", title: "A from #1" },
      { url: "https://b.example/1" },
      { url: "https://b.example/2" },
      { url: "https://c.example/" },
    ]);
  });

  it("makes a single call without tools when no tool is allowed", async () => {
    const slug = model();
    const tools = new FakeTools();
    const out = await loop({ model: slug, tools, toolNames: [], body: { temperature: 0.1 } });

    const requests = requestsOf(slug);
    expect(requests).toHaveLength(1);
    expect(requests[0]).not.toHaveProperty("tools");
    expect(requests[0]).not.toHaveProperty("tool_choice");
    expect(requests[0]?.temperature).toBe(0.1);
    expect(tools.definitionRequests).toEqual([]);
    expect(out.steps).toBe(0);
    expect(out.turn.content).toContain("Redis Streams");
  });

  it("sends the per-call headers with every upstream request", async () => {
    const slug = model();
    await loop({
      model: slug,
      tools: new FakeTools(),
      call: { headers: { "x-openrouter-fusion-depth": "1" } },
    });

    const recorded = sim.state.listRequests({ model: slug });
    expect(recorded).toHaveLength(2);
    expect(recorded.map((r) => r.headers["x-openrouter-fusion-depth"])).toEqual(["1", "1"]);
  });

  it("rejects promptly when the signal is aborted mid-call", async () => {
    const slug = model({ latencyMs: 10_000 });
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 50);
    const error = await loop({
      model: slug,
      tools: new FakeTools(),
      call: { signal: controller.signal },
    }).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).kind).toBe("aborted");
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("rejects without calling the upstream when the signal is already aborted", async () => {
    const slug = model();
    const error = await loop({
      model: slug,
      tools: new FakeTools(),
      call: { signal: AbortSignal.abort() },
    }).catch((err: unknown) => err);

    expect((error as UpstreamError).kind).toBe("aborted");
    expect(requestsOf(slug)).toEqual([]);
  });
});
