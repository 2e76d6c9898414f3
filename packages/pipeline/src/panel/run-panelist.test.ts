import { useScriptedUpstream } from "@fusion/llm-client/test-support";
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
const scripted = useScriptedUpstream({ maxRetries: 1, retryBaseMs: 1 });

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
    progress: "events",
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

  it("at progress full streams its calls and reports its text, tool results and usage", async () => {
    const p = panelist({ toolSteps: 2, tokenDelayMs: 1 }, { progress: "full" });
    const result = await runPanelist(p.input, p.ports);
    expect(result.status).toBe("ok");
    expect(p.requests().map((r) => r.stream)).toEqual([true, true, true]);

    const progress = p.events.progress();
    expect(progress.every((e) => e.stage === "panel" && e.index === 1 && e.model === p.model)).toBe(true);
    expect(progress.filter((e) => e.status !== "delta").map((e) => e.status)).toEqual([
      "started",
      "tool_call",
      "tool_result",
      "tool_call",
      "tool_result",
      "finished",
    ]);
    expect(progress.find((e) => e.status === "tool_result")).toMatchObject({
      tool: "web_search",
      query: "Is nuclear power cheap?",
      latency_ms: expect.any(Number),
    });
    // The text of its last step (2), coalesced into pieces, is its answer; it comes before `finished`.
    const deltas = progress.filter((e) => e.status === "delta");
    expect(deltas.every((e) => e.step === 2)).toBe(true);
    expect(deltas.map((e) => e.text).join("")).toBe(result.content);
    expect(progress.at(-1)).toMatchObject({ status: "finished", usage: result.usage });
    expect(result.usage.total_tokens).toBeGreaterThan(0);
  });

  it("at progress full tells the answer as the result has it: a leading think block and outer space left out", async () => {
    const p = panelist(
      { toolSteps: 0, reply: "<think>Weigh both sides.</think>\n\nIt depends on the site.\n" },
      {
        progress: "full",
      },
    );
    const result = await runPanelist(p.input, p.ports);
    expect(result.content).toBe("It depends on the site.");
    const deltas = p.events.progress().filter((e) => e.status === "delta");
    expect(deltas.map((e) => e.text).join("")).toBe(result.content);
  });

  it("at progress full, a call restarted mid-stream resets its step: what the client joins is the answer", async () => {
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ model: "test/m", choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const { server, client } = await scripted.start((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk(req.n === 1 ? "Half an ans" : "A whole "));
      // The first attempt breaks after its first words (once they went out): a network error, retryable.
      if (req.n === 1) return void setTimeout(() => res.destroy(), 300);
      res.write(chunk("answer."));
      res.end("data: [DONE]\n\n");
    });
    const p = panelist({}, { progress: "full" });
    const result = await runPanelist(p.input, { ...p.ports, upstream: client });
    expect(server.requests).toHaveLength(2);
    expect(result).toMatchObject({ status: "ok", content: "A whole answer." });
    const deltas = p.events.progress().filter((e) => e.status === "delta");
    expect(deltas.every((e) => e.step === 0)).toBe(true);
    expect(deltas[0]).toMatchObject({ text: "Half an ans" });
    expect(deltas.filter((e) => e.reset)).toHaveLength(1);
    // A client applies them in order: a reset drops the step's text so far.
    let text = "";
    for (const d of deltas) text = (d.reset ? "" : text) + (d.text ?? "");
    expect(text).toBe(result.content);
  });

  it("at progress full reports a failure with what was spent", async () => {
    const p = panelist({ alwaysFail: { status: 400, message: "bad request" } }, { progress: "full" });
    const result = await runPanelist(p.input, p.ports);
    expect(result.status).toBe("failed");
    expect(p.events.progress().at(-1)).toMatchObject({
      status: "failed",
      error: result.error,
      usage: result.usage,
    });
  });

  it("at progress events neither streams nor writes text, tool results or usage", async () => {
    const p = panelist({ toolSteps: 1 });
    await runPanelist(p.input, p.ports);
    expect(p.requests().map((r) => r.stream)).toEqual([false, false]);
    const progress = p.events.progress();
    expect(progress.map((e) => e.status)).toEqual(["started", "tool_call", "finished"]);
    expect(progress.some((e) => "usage" in e || "text" in e)).toBe(false);
  });

  it("writes no progress when nobody streams the fusion", async () => {
    const p = panelist({ toolSteps: 1 }, { progress: "none" });
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
