import type { Stage } from "@fusion/wire";
import type { ViewState } from "./view-state.ts";

export interface CostRow {
  key: string;
  stage: string;
  model: string;
  status: string;
  latencyMs: number | undefined;
  tokens: number | undefined;
  cost: number | undefined;
}

export interface Costs {
  rows: CostRow[];
  /** The stages' costs added up (undefined when no stage reported one). */
  total: number | undefined;
  /** The cost the fusion's usage reports for the whole request. */
  reported: number | undefined;
}

const round = (n: number) => Math.round(n * 1e9) / 1e9;

function row(key: string, stage: string, s: Stage): CostRow {
  return {
    key,
    stage,
    model: s.model,
    status: s.status,
    latencyMs: s.latency_ms,
    tokens: s.usage.total_tokens,
    cost: s.usage.cost,
  };
}

/**
 * Cost per stage. From the finishing chunk's `fusion.breakdown` when it came (the stages add up to the
 * total); before that, from what each stage's `finished` event carried.
 */
export function costsOf(state: ViewState): Costs {
  const breakdown = state.result?.breakdown;
  const rows: CostRow[] = breakdown
    ? [
        ...breakdown.panel.map((s, i) => row(`panel-${i}`, `Panelist ${i + 1}`, s)),
        ...(breakdown.judge ? [row("judge", "Judge", breakdown.judge)] : []),
        ...(breakdown.writer ? [row("writer", "Writer", breakdown.writer)] : []),
      ]
    : [
        ...state.panel.map((s, i) => ({ key: `panel-${i}`, stage: `Panelist ${i + 1}`, s })),
        ...(state.judge ? [{ key: "judge", stage: "Judge", s: state.judge }] : []),
      ]
        .filter(({ s }) => s.phase === "done" || s.phase === "failed")
        .map(({ key, stage, s }) => ({
          key,
          stage,
          model: s.model,
          status: s.phase,
          latencyMs: s.latencyMs,
          tokens: s.usage?.total_tokens,
          cost: s.usage?.cost,
        }));
  const costs = rows.flatMap((r) => (r.cost === undefined ? [] : [r.cost]));
  return {
    rows,
    total: costs.length ? round(costs.reduce((a, b) => a + b, 0)) : undefined,
    reported: state.usage?.cost,
  };
}
