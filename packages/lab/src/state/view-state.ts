import type { Analysis, Source, Stage, Usage } from "@fusion/wire";

/** Where the whole run stands. */
export type RunStatus = "idle" | "running" | "done" | "failed" | "cancelled";

/** Where one stage (a panelist, the judge, the writer) stands. */
export type StagePhase = "waiting" | "running" | "done" | "failed";

/** One tool call of a stage, as its progress events told it. */
export interface ToolCallView {
  tool: string;
  /** The search query or the URL. */
  query?: string;
  url?: string;
  /** Server time (ms) of its `tool_call` event and of its `tool_result` event. */
  startMs: number;
  endMs?: number;
  latencyMs?: number;
  error?: string;
}

/** Text a stage wrote in one step of its tool loop; a panelist's answer is the text of its last step. */
export interface StepText {
  step: number;
  text: string;
}

export interface StageView {
  model: string;
  phase: StagePhase;
  /** The reason it failed. */
  error?: string;
  steps: StepText[];
  toolCalls: ToolCallView[];
  /** Server time (ms) it started and ended (from the SSE ids). */
  startMs?: number;
  endMs?: number;
  latencyMs?: number;
  usage?: Usage;
  /** 1, or more when its job was retried (a second `started`). */
  attempt: number;
}

export interface Citation {
  url: string;
  title: string;
}

/** The stages of a fusion's `breakdown`, each with its usage (and cost). */
export interface Breakdown {
  panel: Stage[];
  judge?: Stage;
  writer?: Stage;
}

/** The `fusion` field of the finishing chunk: the fusion tool's result with its sources and breakdown. */
export interface FusionResultView {
  status: "ok" | "error";
  analysis?: Analysis;
  failed_models?: string[];
  error?: string;
  failure_reason?: string;
  sources?: Source[];
  breakdown?: Breakdown;
}

/** Everything the page shows about one fusion, reduced from its SSE events. */
export interface ViewState {
  fusionId: string | null;
  status: RunStatus;
  /** Why the run failed (an error chunk, an HTTP error, a lost stream). */
  error: string | null;
  /** The id of the last SSE event applied: a resume continues after it. */
  lastEventId: string | null;
  /** Server time (ms) of the first and the latest event: the timeline's axis. */
  firstMs: number | null;
  lastMs: number | null;
  /** Panelists by their index in the panel. */
  panel: StageView[];
  judge: StageView | null;
  writer: StageView | null;
  /** The writer's answer (Markdown) and reasoning, as streamed. */
  answer: string;
  reasoning: string;
  citations: Citation[];
  result: FusionResultView | null;
  usage: Usage | null;
  /** The model that wrote the answer, as the chunks name it. */
  model: string | null;
}

export function emptyStage(model: string): StageView {
  return { model, phase: "waiting", steps: [], toolCalls: [], attempt: 1 };
}

export const idleView: ViewState = {
  fusionId: null,
  status: "idle",
  error: null,
  lastEventId: null,
  firstMs: null,
  lastMs: null,
  panel: [],
  judge: null,
  writer: null,
  answer: "",
  reasoning: "",
  citations: [],
  result: null,
  usage: null,
  model: null,
};

/** A run about to start (or a fusion about to be replayed): its panel known, nothing received yet. */
export function startView(options: {
  fusionId?: string;
  panel?: readonly string[];
  judge?: string;
}): ViewState {
  return {
    ...idleView,
    fusionId: options.fusionId ?? null,
    status: "running",
    panel: (options.panel ?? []).map(emptyStage),
    judge: options.judge ? emptyStage(options.judge) : null,
  };
}

/** The whole text of a stage, its steps in order. */
export function stageText(stage: StageView): string {
  return stage.steps.map((s) => s.text).join("\n\n");
}
