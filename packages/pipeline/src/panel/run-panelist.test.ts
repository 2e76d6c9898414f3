import type { Script } from "@fusion/simulator";
import type { ChatMessage } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { PANEL_SYSTEM_PROMPT } from "../prompts.ts";
import type { StagePorts } from "../stage-ports.ts";
import {
  FakeTools,
  MemorySink,
  memoryLog,
  messagesOf,
  settingsFor,
  uniqueModel,
  usageOf,
  useSimulatedUpstream,
} from "../test-support.ts";
import { type PanelistInput, runPanelist } from "./run-panelist.ts";

const simulated = useSimulatedUpstream();
const { sim } = simulated;

const conversation: ChatMessage[] = [{ role: "user", content: "Is nuclear power cheap?" }];

function panelist(script: Script, overrides: Partial<PanelistInput> = {}) {
  const model = uniqueModel("panelist");
  sim.state.setScript(model, script);
  const input: PanelistInput = {
    fusionId: "gen-fusion-test",
    index: 1,
    model,
    messages: conversation,
    settings: settingsFor([model], "test/judge", ["web_search", "web_fetch"]),
    emitProgress: true,
    deadline: { at: Date.now() + 10_000, timeoutMs: 10_000 },
    ...overrides,
  };
  const events = new MemorySink();
  const tools = new FakeTools();
  const log = memoryLog();
  let cancelled = false;
  const ports: StagePorts = {
    upstream: simulated.upstream,
    tools,
    events,
    log,
    isCancelled: async () => cancelled,
    headers: { "x-openrouter-fusion-depth": "1" },
  };
  return {
    model,
    input,
    ports,
    events,
    tools,
    log,
    cancel: () => {
      cancelled = true;
    },
    requests: () => sim.state.listRequests({ model }),
  };
}

describe("runPanelist", () => {
  it("runs the model's tool loop: tools executed, usage added, progress written", async () => {
    const p = panelist({ toolSteps: 2 });
    const result = await runPanelist(p.input, p.ports);

    expect(result).toMatchObject({ model: p.model, status: "ok" });
    expect(result.content).toContain(`Answer from ${p.model}`);
    expect(result.failure).toBeUndefined();
    // Step 1 searches, step 2 fetches; both ran through the executor.
    expect(p.tools.calls.map((c) => c.name)).toEqual(["web_search", "web_fetch"]);
    expect(result.serverToolUse).toEqual({
      web_search_requests: 1,
      tool_calls_requested: 2,
      tool_calls_executed: 2,
    });
    expect(result.urls.map((u) => u.url)).toEqual([
      "https://example.org/web_search/1",
      "https://example.org/web_fetch/2",
    ]);
    const requests = p.requests();
    expect(requests).toHaveLength(3);
    expect(result.usage).toEqual(usageOf(requests));
    // The panel prompt is built by the stage, and every call carries the inner headers.
    expect(messagesOf(requests[0])[0]).toEqual({ role: "system", content: PANEL_SYSTEM_PROMPT });
    expect(requests.every((r) => r.headers["x-openrouter-fusion-depth"] === "1")).toBe(true);
    expect(p.events.progress().map((e) => [e.stage, e.status, e.index, e.model])).toEqual([
      ["panel", "started", 1, p.model],
      ["panel", "tool_call", 1, p.model],
      ["panel", "tool_call", 1, p.model],
      ["panel", "finished", 1, p.model],
    ]);
    expect(p.events.progress()[1]).toMatchObject({ tool: "web_search", query: "Is nuclear power cheap?" });
  });

  it("asks the panel the model's question when it differs from the user's last message", async () => {
    const p = panelist({ toolSteps: 0 }, { question: "What does a kWh of nuclear power cost?" });
    await runPanelist(p.input, p.ports);
    expect(messagesOf(p.requests()[0]).at(-1)).toEqual({
      role: "user",
      content: "The question for the panel: What does a kWh of nuclear power cost?",
    });
  });

  it("writes no progress when nobody streams the fusion", async () => {
    const p = panelist({ toolSteps: 1 }, { emitProgress: false });
    expect((await runPanelist(p.input, p.ports)).status).toBe("ok");
    expect(p.events.events).toEqual([]);
  });

  it.each([
    [429, { kind: "http", status: 429 }],
    [400, { kind: "http", status: 400 }],
  ])("a panelist refused with %i fails with a typed failure", async (status, failure) => {
    const p = panelist({ alwaysFail: { status, message: "no" } });
    const result = await runPanelist(p.input, p.ports);
    expect(result).toMatchObject({ status: "failed", failure, content: "" });
    expect(result.error).toMatch(new RegExp(`^\\[${status}\\] upstream returned ${status}`));
    expect(p.events.progress().at(-1)).toMatchObject({ status: "failed", error: result.error });
  });

  it("a model that answers with no text fails with no_text", async () => {
    const p = panelist({ toolSteps: 0, reply: "  " });
    const result = await runPanelist(p.input, p.ports);
    expect(result).toMatchObject({
      status: "failed",
      failure: { kind: "no_text" },
      error: `${p.model} returned no text`,
    });
    expect(result.usage).toEqual(usageOf(p.requests()));
  });

  it("a panelist still working at the deadline fails with deadline", async () => {
    const p = panelist({ hangMs: 5_000 }, { deadline: { at: Date.now() + 300, timeoutMs: 300 } });
    const started = Date.now();
    const result = await runPanelist(p.input, p.ports);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toMatchObject({ status: "failed", failure: { kind: "deadline" } });
    expect(result.error).toBe(`the panel deadline (300 ms) passed before ${p.model} answered`);
    expect(p.events.progress().at(-1)).toMatchObject({ status: "failed", error: result.error });
  });

  it("a fusion cancelled before the panelist starts makes no call", async () => {
    const p = panelist({});
    p.cancel();
    expect(await runPanelist(p.input, p.ports)).toMatchObject({ status: "cancelled", content: "" });
    expect(p.requests()).toHaveLength(0);
    expect(p.events.events).toEqual([]);
  });

  it("a fusion cancelled while the panelist works ends it as cancelled", async () => {
    const p = panelist({ latencyMs: 5_000 });
    const abort = new AbortController();
    const running = runPanelist(p.input, { ...p.ports, signal: abort.signal });
    await new Promise((r) => setTimeout(r, 100));
    p.cancel();
    abort.abort();
    expect(await running).toMatchObject({ status: "cancelled" });
  });
});
