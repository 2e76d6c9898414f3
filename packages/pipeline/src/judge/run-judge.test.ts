import type { Script } from "@fusion/simulator";
import { emptyServerToolUse, emptyUsage, type PanelResult } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { crashedPanelResult } from "../panel/panel-failure.ts";
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
import { type JudgeInput, type JudgePorts, runJudge } from "./run-judge.ts";

const simulated = useSimulatedUpstream();
const { sim } = simulated;

function answer(model: string, urls: string[] = []): PanelResult {
  return {
    model,
    status: "ok",
    content: `Answer from ${model}.`,
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    serverToolUse: { web_search_requests: 1, tool_calls_requested: 1, tool_calls_executed: 1 },
    urls: urls.map((url) => ({ url })),
    latencyMs: 20,
  };
}

function failed(model: string, error: string, failure?: PanelResult["failure"]): PanelResult {
  return {
    model,
    status: "failed",
    content: "",
    error,
    ...(failure ? { failure } : {}),
    usage: emptyUsage(),
    serverToolUse: emptyServerToolUse(),
    urls: [],
    latencyMs: 5,
  };
}

function judge(script: Script | undefined, results: PanelResult[], overrides: Partial<JudgeInput> = {}) {
  const model = uniqueModel("judge");
  if (script) sim.state.setScript(model, script);
  const input: JudgeInput = {
    fusionId: "gen-fusion-judge",
    messages: [{ role: "user", content: "Is nuclear power cheap?" }],
    settings: settingsFor(
      results.map((r) => r.model),
      model,
    ),
    progress: "events",
    results,
    structuredOutput: true,
    timeoutMs: 10_000,
    ...overrides,
  };
  const events = new MemorySink();
  let repairs = 0;
  let cancelled = false;
  const ports: JudgePorts = {
    upstream: simulated.upstream,
    tools: new FakeTools(),
    events,
    log: memoryLog(),
    isCancelled: async () => cancelled,
    onRepair: () => {
      repairs++;
    },
  };
  return {
    model,
    input,
    ports,
    events,
    repairs: () => repairs,
    cancel: () => {
      cancelled = true;
    },
    requests: () => sim.state.listRequests({ model }),
  };
}

describe("runJudge", () => {
  it("compares the panel's answers into an analysis, with the stages and sources", async () => {
    const [a, b] = [uniqueModel("a"), uniqueModel("b")];
    const j = judge(undefined, [
      answer(a, ["https://x.org/1"]),
      answer(b, ["https://x.org/1", "https://x.org/2"]),
    ]);
    const judged = await runJudge(j.input, j.ports);

    expect(judged.result).toMatchObject({
      status: "ok",
      responses: [
        { model: a, content: `Answer from ${a}.` },
        { model: b, content: `Answer from ${b}.` },
      ],
      analysis: { consensus: ["All 2 panelists agree on the core answer."] },
    });
    expect(judged.result).not.toHaveProperty("failed_models");
    expect(judged.panel.map((s) => [s.model, s.status])).toEqual([
      [a, "ok"],
      [b, "ok"],
    ]);
    expect(judged.judge).toMatchObject({ model: j.model, status: "ok", usage: usageOf(j.requests()) });
    expect(judged.urls.map((u) => u.url)).toEqual(["https://x.org/1", "https://x.org/2"]);
    const [request] = j.requests();
    expect(request?.body).toMatchObject({
      response_format: { type: "json_schema", json_schema: { name: "fusion_analysis" } },
    });
    expect(messagesOf(request).at(-1)?.content).toContain(`<response model="${a}">`);
    expect(j.events.progress().map((e) => [e.stage, e.status])).toEqual([
      ["judge", "started"],
      ["judge", "finished"],
    ]);
    expect(j.repairs()).toBe(0);
  });

  it.each(["fenced", "prose"] as const)("recovers JSON that is %s without a repair", async (judgeOutput) => {
    const j = judge({ judgeOutput }, [answer(uniqueModel("a")), answer(uniqueModel("b"))]);
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toMatchObject({ status: "ok", analysis: { blind_spots: expect.any(Array) } });
    expect(j.requests()).toHaveLength(1);
    expect(j.repairs()).toBe(0);
  });

  it("asks once for a repair of invalid JSON and takes the repaired analysis", async () => {
    const j = judge({ judgeOutput: "invalid-then-valid" }, [answer(uniqueModel("a"))]);
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toMatchObject({ status: "ok", analysis: { consensus: expect.any(Array) } });
    expect(j.repairs()).toBe(1);
    const requests = j.requests();
    expect(requests).toHaveLength(2);
    const repair = messagesOf(requests[1]);
    expect(repair.at(-2)).toEqual({ role: "assistant", content: '{"consensus": ["unterminated' });
    expect(repair.at(-1)?.content).toMatch(/^Your reply could not be used: the reply holds no JSON object\./);
    expect(judged.judge).toMatchObject({ status: "ok", usage: usageOf(requests) });
  });

  it("at progress full streams the judge's raw text, its repair as the next step", async () => {
    const j = judge({ judgeOutput: "invalid-then-valid", tokenDelayMs: 1 }, [answer(uniqueModel("a"))], {
      progress: "full",
    });
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toMatchObject({ status: "ok", analysis: { consensus: expect.any(Array) } });
    expect(j.requests().map((r) => r.stream)).toEqual([true, true]);
    const progress = j.events.progress();
    const text = (step: number) =>
      progress
        .filter((e) => e.status === "delta" && e.step === step)
        .map((e) => e.text)
        .join("");
    expect(text(0)).toBe('{"consensus": ["unterminated');
    // The repaired reply is the judge's JSON, as the client may show it.
    expect(JSON.parse(text(1))).toMatchObject({ consensus: expect.any(Array) });
    expect(progress.filter((e) => e.status !== "delta").map((e) => e.status)).toEqual([
      "started",
      "finished",
    ]);
    expect(progress.at(-1)).toMatchObject({ status: "finished", usage: judged.judge.usage });
  });

  it("leaves the answers without analysis when the repair is still invalid", async () => {
    const [a, bad] = [uniqueModel("a"), uniqueModel("bad")];
    const j = judge({ judgeOutput: "invalid" }, [answer(a), failed(bad, "[400] upstream returned 400")]);
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toEqual({
      status: "ok",
      responses: [{ model: a, content: `Answer from ${a}.` }],
      failed_models: [bad],
    });
    expect(j.requests()).toHaveLength(2);
    expect(j.repairs()).toBe(1);
    expect(judged.judge).toMatchObject({ status: "failed", error: "the reply holds no JSON object" });
    expect(j.events.progress().at(-1)).toMatchObject({
      status: "failed",
      error: "the reply holds no JSON object",
    });
  });

  it("leaves the answers without analysis when the judge's upstream fails", async () => {
    const j = judge({ alwaysFail: { status: 403, message: "forbidden" } }, [answer(uniqueModel("a"))]);
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toMatchObject({ status: "ok" });
    expect(judged.result).not.toHaveProperty("analysis");
    expect(judged.judge.status).toBe("failed");
    expect(judged.judge.error).toMatch(/^\[403\] upstream returned 403: forbidden/);
  });

  it("gives rate_limited when every panelist was refused with 429, from the typed failure", async () => {
    const panel = [uniqueModel("p"), uniqueModel("q")];
    const j = judge(
      undefined,
      panel.map((m) => failed(m, "too many requests", { kind: "http", status: 429 })),
    );
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toEqual({
      status: "error",
      error: `every panel model failed: ${panel[0]}: too many requests; ${panel[1]}: too many requests`,
      failure_reason: "rate_limited",
      failed_models: panel,
    });
    expect(judged.judge).toMatchObject({ status: "skipped" });
    expect(j.requests()).toHaveLength(0);
  });

  it.each([
    ["one failed otherwise", [{ kind: "http", status: 429 }, { kind: "deadline" }]],
    ["the message only looks like a 429", [undefined, undefined]],
  ] as const)("gives all_panels_failed when %s", async (_name, failures) => {
    const j = judge(
      undefined,
      failures.map((f) => failed(uniqueModel("p"), "[429] upstream returned 429", f)),
    );
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toMatchObject({ status: "error", failure_reason: "all_panels_failed" });
  });

  it("counts a panelist whose job crashed as failed", async () => {
    const [a, crashed] = [uniqueModel("a"), uniqueModel("crashed")];
    const j = judge(undefined, [
      answer(a),
      crashedPanelResult(crashed, "job stalled more than allowable limit"),
    ]);
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result).toMatchObject({ status: "ok", failed_models: [crashed] });
    expect(judged.panel[1]).toMatchObject({
      status: "failed",
      error: "job stalled more than allowable limit",
    });
  });

  it("does not call the judge for a cancelled fusion", async () => {
    const j = judge(undefined, [answer(uniqueModel("a"))]);
    j.cancel();
    const judged = await runJudge(j.input, j.ports);
    expect(judged).toMatchObject({
      cancelled: true,
      result: { status: "error", failure_reason: "cancelled" },
      judge: { status: "cancelled" },
    });
    expect(j.requests()).toHaveLength(0);
  });

  it("leaves the answers without analysis when the judge's deadline passes", async () => {
    const j = judge({ hangMs: 5_000 }, [answer(uniqueModel("a"))], { timeoutMs: 300 });
    const judged = await runJudge(j.input, j.ports);
    expect(judged.result.status).toBe("ok");
    expect(judged.judge).toMatchObject({ status: "failed", error: "the judge deadline (300 ms) passed" });
  });
});
