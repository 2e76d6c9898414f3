import { stageStatusText } from "./stage-status.ts";
import type { StageView, ToolCallView, ViewState } from "./view-state.ts";

/** One bar of the timeline: where it starts and how long it lasts, as percentages of the axis. */
export interface TimelineRow {
  key: string;
  label: string;
  /** A tool call, drawn under its stage. */
  nested: boolean;
  status: string;
  /** ms after the axis' origin. */
  startMs: number;
  durationMs: number;
  leftPct: number;
  widthPct: number;
  failed: boolean;
}

export interface Timeline {
  /** Length of the axis in ms (from the first event to the latest). */
  spanMs: number;
  rows: TimelineRow[];
}

const MIN_WIDTH_PCT = 0.5;

function toolLabel(call: ToolCallView): string {
  const what = call.query ?? call.url;
  return what ? `${call.tool}: ${what}` : call.tool;
}

/**
 * Every stage (each panelist with each of its tool calls, the judge with its tool calls, the writer)
 * on one time axis, from the server times of the events (the SSE ids), so a replayed fusion draws the
 * same. A stage still running reaches the latest event.
 */
export function timelineOf(state: ViewState): Timeline {
  const origin = state.firstMs;
  const latest = state.lastMs;
  if (origin === null || latest === null) return { spanMs: 0, rows: [] };
  const spanMs = Math.max(latest - origin, 1);
  const rows: TimelineRow[] = [];
  const bar = (key: string, label: string, nested: boolean, status: string, from: number, to: number) => {
    const start = Math.min(Math.max(from - origin, 0), spanMs);
    const duration = Math.max(Math.min(to - origin, spanMs) - start, 0);
    rows.push({
      key,
      label,
      nested,
      status,
      startMs: start,
      durationMs: duration,
      leftPct: Math.min((start / spanMs) * 100, 100 - MIN_WIDTH_PCT),
      widthPct: Math.max((duration / spanMs) * 100, MIN_WIDTH_PCT),
      failed: status.startsWith("failed") || status.startsWith("error"),
    });
  };
  const addStage = (key: string, label: string, stage: StageView | null) => {
    if (!stage || stage.startMs === undefined) return;
    bar(key, label, false, stageStatusText(stage), stage.startMs, stage.endMs ?? latest);
    stage.toolCalls.forEach((call, i) => {
      const status = call.error ? `error: ${call.error}` : call.endMs === undefined ? "running" : "done";
      bar(`${key}-tool-${i}`, toolLabel(call), true, status, call.startMs, call.endMs ?? latest);
    });
  };
  state.panel.forEach((stage, i) => {
    addStage(`panel-${i}`, `Panel: ${stage.model}`, stage);
  });
  addStage("judge", `Judge: ${state.judge?.model ?? ""}`, state.judge);
  addStage("writer", `Writer: ${state.writer?.model ?? ""}`, state.writer);
  return { spanMs, rows };
}
