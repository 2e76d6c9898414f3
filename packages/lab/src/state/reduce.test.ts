import { describe, expect, it } from "vitest";
import { costsOf } from "./costs.ts";
import { markCancelled, reduceEvent, type SseMessage } from "./reduce.ts";
import { stageStatusText } from "./stage-status.ts";
import { FusionEvents, stage, usage } from "./test-events.ts";
import { timelineOf } from "./timeline.ts";
import { stageText, startView, type ViewState } from "./view-state.ts";

const GPT = "~openai/gpt-latest";
const GEMINI = "~google/gemini-pro-latest";
const JUDGE = "~anthropic/claude-opus-latest";
const PRIMER = "http://127.0.0.1:9000/pages/fusion-primer";

const analysis = {
  consensus: ["Both penalise coefficients."],
  consensus_sources: [[PRIMER]],
  contradictions: [
    {
      topic: "Which to use first",
      stances: [
        { model: GPT, stance: "Start with ridge." },
        { model: GEMINI, stance: "Start with lasso." },
      ],
      sources: [PRIMER],
    },
  ],
  partial_coverage: [{ models: [GPT], point: "Elastic net mixes both.", sources: [] }],
  unique_insights: [{ model: GEMINI, insight: "Lasso selects features.", sources: [PRIMER] }],
  blind_spots: ["Nobody mentioned scaling."],
};

/** A whole fusion: two panelists with a search and a fetch, the judge, the writer, the finishing chunks. */
function basicRun(): FusionEvents {
  const e = new FusionEvents();
  e.panel(0, GPT, "started").panel(1, GEMINI, "started");
  e.wait(40).panel(0, GPT, "tool_call", { tool: "web_search", query: "ridge vs lasso" });
  e.wait(10).panel(1, GEMINI, "tool_call", { tool: "web_fetch", url: PRIMER });
  e.wait(120).panel(0, GPT, "tool_result", { tool: "web_search", query: "ridge vs lasso", latency_ms: 130 });
  e.wait(30).panel(1, GEMINI, "tool_result", { tool: "web_fetch", url: PRIMER, latency_ms: 150 });
  e.wait(50).panel(0, GPT, "delta", { text: "Ridge shrinks ", step: 1 });
  e.panel(1, GEMINI, "delta", { text: "Lasso zeroes ", step: 1 });
  e.wait(50).panel(0, GPT, "delta", { text: "coefficients.", step: 1 });
  e.panel(1, GEMINI, "delta", { text: "some coefficients.", step: 1 });
  e.wait(20).panel(0, GPT, "finished", { latency_ms: 320, usage: usage(100, 50, 0.00015) });
  e.wait(10).panel(1, GEMINI, "finished", { latency_ms: 330, usage: usage(100, 50, 0.00025) });
  e.wait(5).progress({ stage: "judge", model: JUDGE, status: "started" });
  e.wait(60).progress({ stage: "judge", model: JUDGE, status: "delta", text: '{"consensus":', step: 0 });
  e.wait(60).progress({ stage: "judge", model: JUDGE, status: "finished", latency_ms: 200 });
  e.wait(5).progress({ stage: "writer", model: JUDGE, status: "started" });
  e.wait(30).content("Use ridge when ");
  e.wait(30).content(`all features matter; see ${PRIMER}.`);
  e.wait(10).progress({ stage: "writer", model: JUDGE, status: "finished", latency_ms: 70 });
  e.chunk({
    choices: [
      {
        index: 0,
        delta: {
          annotations: [
            {
              type: "url_citation",
              url_citation: { url: PRIMER, title: "Fusion primer", start_index: 40, end_index: 80 },
            },
          ],
        },
        finish_reason: "stop",
      },
    ],
    usage: usage(300, 150, 0.0007),
    fusion: {
      status: "ok",
      analysis,
      responses: [],
      failed_models: [],
      sources: [{ url: PRIMER, title: "Fusion primer" }],
      breakdown: {
        panel: [stage(GPT, 320, 0.00015), stage(GEMINI, 330, 0.00025)],
        judge: stage(JUDGE, 200, 0.0002),
        writer: stage(JUDGE, 70, 0.0001),
      },
    },
  });
  e.chunk({ usage: usage(300, 150, 0.0007) });
  return e.done();
}

const reduceAll = (state: ViewState, events: readonly SseMessage[]) => events.reduce(reduceEvent, state);
const live = () => startView({ fusionId: "gen-fusion-test-1", panel: [GPT, GEMINI], judge: JUDGE });

describe("reduceEvent", () => {
  it("fills every card, the analysis, the answer, its citations and the costs from a whole run", () => {
    const events = basicRun().events;
    const state = reduceAll(live(), events);

    expect(state.status).toBe("done");
    expect(state.lastEventId).toBe(events.at(-1)?.id);
    expect(state.panel.map((s) => [s.model, stageStatusText(s), stageText(s)])).toEqual([
      [GPT, "done", "Ridge shrinks coefficients."],
      [GEMINI, "done", "Lasso zeroes some coefficients."],
    ]);
    expect(state.panel[0]?.toolCalls).toEqual([
      expect.objectContaining({ tool: "web_search", query: "ridge vs lasso", latencyMs: 130 }),
    ]);
    expect(state.panel[1]?.toolCalls[0]).toMatchObject({ tool: "web_fetch", url: PRIMER, latencyMs: 150 });
    expect(state.panel[0]).toMatchObject({ latencyMs: 320, usage: { total_tokens: 150, cost: 0.00015 } });
    expect(state.judge).toMatchObject({
      model: JUDGE,
      phase: "done",
      steps: [{ step: 0, text: '{"consensus":' }],
    });
    expect(state.answer).toBe(`Use ridge when all features matter; see ${PRIMER}.`);
    expect(state.citations).toEqual([{ url: PRIMER, title: "Fusion primer" }]);
    expect(state.result?.analysis).toEqual(analysis);
    expect(state.writer).toMatchObject({ phase: "done", model: JUDGE });

    const costs = costsOf(state);
    expect(costs.rows.map((r) => [r.stage, r.cost])).toEqual([
      ["Panelist 1", 0.00015],
      ["Panelist 2", 0.00025],
      ["Judge", 0.0002],
      ["Writer", 0.0001],
    ]);
    expect(costs.total).toBe(0.0007);
    expect(costs.reported).toBe(0.0007);
  });

  it("shows what a panelist is doing while it works: searching, fetching, writing", () => {
    const events = basicRun().events;
    const afterCalls = reduceAll(live(), events.slice(0, 4));
    expect(afterCalls.panel.map(stageStatusText)).toEqual(["searching", "fetching"]);
    const afterResults = reduceAll(live(), events.slice(0, 6));
    expect(afterResults.panel.map(stageStatusText)).toEqual(["writing", "writing"]);
    expect(reduceAll(live(), []).panel.map(stageStatusText)).toEqual(["waiting", "waiting"]);
  });

  it("puts every stage and tool call on one time axis from the event ids", () => {
    const state = reduceAll(live(), basicRun().events);
    const { spanMs, rows } = timelineOf(state);
    expect(spanMs).toBe((state.lastMs ?? 0) - (state.firstMs ?? 0));
    expect(rows.map((r) => r.label)).toEqual([
      `Panel: ${GPT}`,
      "web_search: ridge vs lasso",
      `Panel: ${GEMINI}`,
      `web_fetch: ${PRIMER}`,
      `Judge: ${JUDGE}`,
      `Writer: ${JUDGE}`,
    ]);
    const [gpt, search] = rows;
    expect(gpt).toMatchObject({ startMs: 0, durationMs: 320, nested: false });
    expect(search).toMatchObject({ startMs: 40, durationMs: 130, nested: true });
    for (const row of rows) expect(row.leftPct + row.widthPct).toBeLessThanOrEqual(100.0001);
  });

  it("shows a failed panelist with its reason, and the others as they are", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started").panel(1, GEMINI, "started");
    e.wait(100).panel(1, GEMINI, "failed", { error: "upstream 503 after 3 attempts", latency_ms: 100 });
    e.wait(10).panel(0, GPT, "delta", { text: "Ridge.", step: 0 });
    e.panel(0, GPT, "finished", { latency_ms: 110 });
    e.chunk({
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      fusion: { status: "ok", responses: [], failed_models: [GEMINI], analysis },
    });
    const state = reduceAll(live(), e.done().events);
    expect(state.panel.map(stageStatusText)).toEqual(["done", "failed: upstream 503 after 3 attempts"]);
    expect(state.result?.failed_models).toEqual([GEMINI]);
    expect(state.status).toBe("done");
    expect(timelineOf(state).rows.find((r) => r.label.includes(GEMINI))?.failed).toBe(true);
  });

  it("keeps the fallback of a fusion whose panelists all failed, and the writer's answer", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started").panel(1, GEMINI, "started");
    e.wait(50).panel(0, GPT, "failed", { error: "timeout" });
    e.panel(1, GEMINI, "failed", { error: "http 500" });
    e.wait(5).progress({ stage: "writer", model: JUDGE, status: "started" });
    e.wait(20).content("I could not consult the panel.");
    e.chunk({
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      fusion: {
        status: "error",
        error: "every panel model failed",
        failure_reason: "all_panels_failed",
        failed_models: [GPT, GEMINI],
      },
    });
    const state = reduceAll(live(), e.done().events);
    expect(state.panel.every((s) => s.phase === "failed")).toBe(true);
    expect(state.result).toMatchObject({ status: "error", failure_reason: "all_panels_failed" });
    expect(state.result?.analysis).toBeUndefined();
    expect(state.answer).toBe("I could not consult the panel.");
    expect(state.status).toBe("done");
  });

  it("starts a retried panelist's card over when it is started again", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started");
    e.wait(10).panel(0, GPT, "tool_call", { tool: "web_search", query: "q" });
    e.wait(10).panel(0, GPT, "delta", { text: "half an ans", step: 1 });
    e.wait(500).panel(0, GPT, "started");
    const retried = reduceAll(live(), e.events);
    expect(retried.panel[0]).toMatchObject({ phase: "running", steps: [], toolCalls: [], attempt: 2 });
    e.wait(10).panel(0, GPT, "delta", { text: "A whole answer.", step: 0 });
    e.panel(0, GPT, "finished", { latency_ms: 20 });
    const state = reduceAll(live(), e.events);
    expect(state.panel.map(stageText)).toEqual(["A whole answer.", ""]);
    expect(state.panel[0]?.startMs).toBe(retried.panel[0]?.startMs);
  });

  it("keeps a panelist's text of each tool step apart; the last step is its answer", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started");
    e.panel(0, GPT, "delta", { text: "Let me search.", step: 0 });
    e.panel(0, GPT, "tool_call", { tool: "web_search", query: "q" });
    e.panel(0, GPT, "tool_result", { tool: "web_search", query: "q", latency_ms: 5, error: "no results" });
    e.panel(0, GPT, "delta", { text: "The answer.", step: 1 });
    const state = reduceAll(live(), e.events);
    expect(state.panel[0]?.steps).toEqual([
      { step: 0, text: "Let me search." },
      { step: 1, text: "The answer." },
    ]);
    expect(state.panel[0]?.toolCalls[0]?.error).toBe("no results");
  });

  it("drops a step's text when its delta says the call restarted upstream", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started");
    e.panel(0, GPT, "delta", { text: "Let me search.", step: 0 });
    e.panel(0, GPT, "delta", { text: "Ridge is gre", step: 1 });
    e.panel(0, GPT, "delta", { text: "Ridge is ", step: 1, reset: true });
    e.panel(0, GPT, "delta", { text: "better.", step: 1 });
    const state = reduceAll(live(), e.events);
    expect(state.panel[0]?.steps).toEqual([
      { step: 0, text: "Let me search." },
      { step: 1, text: "Ridge is better." },
    ]);
  });

  it("resumes after a saved last event id without applying anything twice", () => {
    const events = basicRun().events;
    const whole = reduceAll(live(), events);
    for (const cut of [3, 8, 17, 20, events.length - 2]) {
      // What sessionStorage holds: the state and its last event id, saved together, as JSON.
      const saved = JSON.parse(JSON.stringify(reduceAll(live(), events.slice(0, cut)))) as ViewState;
      expect(saved.lastEventId).toBe(events[cut - 1]?.id);
      // The resumed stream starts after that id; a server that sends a few earlier ones again changes nothing.
      const resumed = reduceAll(saved, events.slice(Math.max(cut - 3, 0)));
      expect(resumed).toEqual(whole);
    }
    expect(whole.answer.match(/Use ridge/g)).toHaveLength(1);
  });

  it("replays a fusion from history into the same view, with no panel known beforehand", () => {
    const events = basicRun().events;
    const replayed = reduceAll(startView({ fusionId: "gen-fusion-test-1" }), events);
    const seen = reduceAll(live(), events);
    expect(replayed).toEqual(seen);
    expect(timelineOf(replayed)).toEqual(timelineOf(seen));
  });

  it("ends a run with an error chunk as failed, and a cancelled one stays cancelled", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started");
    e.chunk({
      error: { code: "server_error", status: 502, message: "the fusion ended without an answer" },
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
    });
    const failed = reduceAll(live(), e.done().events);
    expect(failed).toMatchObject({ status: "failed", error: "the fusion ended without an answer" });
    const cancelled = reduceAll(markCancelled(reduceAll(live(), e.events.slice(0, 1))), e.events.slice(1));
    expect(cancelled.status).toBe("cancelled");
  });

  it("replays a cancelled fusion as cancelled, its unfinished cards stopped", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started").panel(1, GEMINI, "started");
    e.wait(10).panel(0, GPT, "delta", { text: "a", step: 0 });
    e.panel(1, GEMINI, "finished", { latency_ms: 10 });
    e.wait(80).chunk({
      error: { code: "cancelled", status: 499, message: "the fusion was cancelled" },
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
    });
    const state = reduceAll(startView({}), e.done().events);
    expect(state.status).toBe("cancelled");
    expect(state.panel.map(stageStatusText)).toEqual(["failed: cancelled", "done"]);
    expect(state.panel[0]).toMatchObject({ endMs: state.lastMs, steps: [{ step: 0, text: "a" }] });
    expect(state.judge).toBeNull();
  });

  it("stops the open cards when the user cancels", () => {
    const e = new FusionEvents();
    e.panel(0, GPT, "started");
    const state = markCancelled(reduceAll(live(), e.events));
    expect(state.status).toBe("cancelled");
    expect([...state.panel, state.judge].map((s) => s && stageStatusText(s))).toEqual([
      "failed: cancelled",
      "failed: cancelled",
      "failed: cancelled",
    ]);
  });

  it("ignores what it cannot read and keeps going", () => {
    const state = reduceAll(live(), [
      { id: "1795258260000-0", data: "not json" },
      { id: "1795258260000-1", event: "fusion.progress", data: '{"stage":"panel"}' },
      { id: "1795258260000-2", event: "something.else", data: '{"a":1}' },
      { id: "1795258260001-0", data: '{"choices":[{"delta":{"content":"Hi"}}]}' },
    ]);
    expect(state).toMatchObject({ status: "running", answer: "Hi", lastEventId: "1795258260001-0" });
  });
});
