import { usageOf } from "./fusion-result.ts";
import { type JsonObject, num, str } from "./json-fields.ts";
import { emptyStage, type StageView, type ViewState } from "./view-state.ts";

/**
 * A `fusion.progress` event (progress level "full"): `stage` (panel, judge, writer) and `status`
 * (started, tool_call, tool_result, delta, finished, failed), with `model`, `index` for panelists,
 * `tool` with `query` or `url`, `text` and `step` for deltas, `latency_ms`, `usage`, `error`.
 */
interface Progress {
  stage: string;
  status: string;
  model?: string;
  index?: number;
  tool?: string;
  query?: string;
  url?: string;
  text?: string;
  step?: number;
  /** A delta that restarts its step: the step's text so far is dropped. */
  reset: boolean;
  latencyMs?: number;
  error?: string;
  body: JsonObject;
}

function progressOf(body: JsonObject): Progress | undefined {
  const stage = str(body.stage);
  const status = str(body.status);
  if (!stage || !status) return undefined;
  return {
    stage,
    status,
    model: str(body.model),
    index: num(body.index),
    tool: str(body.tool),
    query: str(body.query),
    url: str(body.url),
    text: str(body.text),
    step: num(body.step),
    reset: body.reset === true,
    latencyMs: num(body.latency_ms),
    error: str(body.error),
    body,
  };
}

function started(stage: StageView, p: Progress, at: number): StageView {
  const model = p.model ?? stage.model;
  const begun = stage.phase !== "waiting" || stage.steps.length > 0 || stage.toolCalls.length > 0;
  // A second `started` is a retried job: that stage starts over, its text dropped.
  if (begun) return { ...emptyStage(model), phase: "running", startMs: at, attempt: stage.attempt + 1 };
  return { ...stage, model, phase: "running", startMs: at };
}

function running(stage: StageView, at: number): StageView {
  return stage.phase === "waiting" ? { ...stage, phase: "running", startMs: stage.startMs ?? at } : stage;
}

function toolCalled(stage: StageView, p: Progress, at: number): StageView {
  const call = {
    tool: p.tool ?? "tool",
    ...(p.query !== undefined ? { query: p.query } : {}),
    ...(p.url !== undefined ? { url: p.url } : {}),
    startMs: at,
  };
  return { ...running(stage, at), toolCalls: [...stage.toolCalls, call] };
}

function toolReturned(stage: StageView, p: Progress, at: number): StageView {
  const same = (c: StageView["toolCalls"][number]) =>
    c.endMs === undefined && c.tool === (p.tool ?? c.tool) && c.query === p.query && c.url === p.url;
  const pending = stage.toolCalls.findIndex(same);
  const result = {
    endMs: at,
    ...(p.latencyMs !== undefined ? { latencyMs: p.latencyMs } : {}),
    ...(p.error !== undefined ? { error: p.error } : {}),
  };
  if (pending < 0) {
    // A result whose call we never saw: keep it, placed by its latency.
    const call = {
      tool: p.tool ?? "tool",
      ...(p.query !== undefined ? { query: p.query } : {}),
      ...(p.url !== undefined ? { url: p.url } : {}),
      startMs: at - (p.latencyMs ?? 0),
      ...result,
    };
    return { ...stage, toolCalls: [...stage.toolCalls, call] };
  }
  return { ...stage, toolCalls: stage.toolCalls.map((c, i) => (i === pending ? { ...c, ...result } : c)) };
}

function wrote(stage: StageView, p: Progress, at: number): StageView {
  const text = p.text ?? "";
  if (!text && !p.reset) return running(stage, at);
  const step = p.step ?? stage.steps.at(-1)?.step ?? 0;
  const existing = stage.steps.find((s) => s.step === step);
  const steps = existing
    ? stage.steps.map((s) => (s.step === step ? { step, text: p.reset ? text : s.text + text } : s))
    : [...stage.steps, { step, text }].sort((a, b) => a.step - b.step);
  return { ...running(stage, at), steps };
}

function ended(stage: StageView, p: Progress, at: number, phase: "done" | "failed"): StageView {
  const usage = usageOf(p.body.usage);
  return {
    ...stage,
    model: p.model ?? stage.model,
    phase,
    startMs: stage.startMs ?? at - (p.latencyMs ?? 0),
    endMs: at,
    ...(p.latencyMs !== undefined ? { latencyMs: p.latencyMs } : {}),
    ...(usage ? { usage } : {}),
    ...(phase === "failed" ? { error: p.error ?? "failed" } : {}),
  };
}

function applyToStage(stage: StageView, p: Progress, at: number): StageView {
  switch (p.status) {
    case "started":
      return started(stage, p, at);
    case "tool_call":
      return toolCalled(stage, p, at);
    case "tool_result":
      return toolReturned(stage, p, at);
    case "delta":
      return wrote(stage, p, at);
    case "finished":
      return ended(stage, p, at, "done");
    case "failed":
      return ended(stage, p, at, "failed");
    default:
      return stage;
  }
}

/** The panel with the panelist at `index` updated; missing cards before it are placeholders. */
function withPanelist(state: ViewState, p: Progress, at: number): StageView[] {
  const index = p.index ?? state.panel.findIndex((s) => s.model === p.model);
  const slot = index >= 0 ? index : state.panel.length;
  const panel = [...state.panel];
  for (let i = panel.length; i <= slot; i++) panel.push(emptyStage(`Panelist ${i + 1}`));
  const current = panel[slot] ?? emptyStage(p.model ?? `Panelist ${slot + 1}`);
  panel[slot] = applyToStage(p.model ? { ...current, model: p.model } : current, p, at);
  return panel;
}

/** Applies one progress event (its body parsed) at server time `at`. */
export function applyProgress(state: ViewState, body: JsonObject, at: number): ViewState {
  const p = progressOf(body);
  if (!p) return state;
  const fresh = (stage: StageView | null) => stage ?? emptyStage(p.model ?? p.stage);
  switch (p.stage) {
    case "panel":
      return { ...state, panel: withPanelist(state, p, at) };
    case "judge":
      return { ...state, judge: applyToStage(fresh(state.judge), p, at) };
    case "writer":
      return { ...state, writer: applyToStage(fresh(state.writer), p, at) };
    default:
      return state;
  }
}
