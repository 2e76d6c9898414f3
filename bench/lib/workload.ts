/**
 * The fusion every scenario sends, and the simulator scripts that give each of its upstream calls the
 * chosen latency. Shape: the `openrouter/fusion` alias (a forced fusion: no decider call, the judge
 * model writes the answer), 3 panelists with one web_search tool step each (2 calls each), a judge
 * scripted without tool steps (1 call), the writer (1 call): 8 upstream calls, critical path 4 × L.
 */
import type { Script } from "@fusion/simulator";

const PANEL_MODELS = ["bench/panel-a", "bench/panel-b", "bench/panel-c"] as const;
const JUDGE_MODEL = "bench/judge";
/** Unscripted: answered at once as a plain (non-fusion) request. */
const PLAIN_MODEL = "bench/plain";

/** Upstream calls on the critical path of one fusion, each waiting L: panel tool call, panel answer, judge, writer. */
export const CRITICAL_PATH_CALLS = 4;

/** Upstream calls one fusion makes in all, by simulator role. */
export const CALLS_PER_FUSION = { panelist: 6, judge: 1, writer: 1 } as const;

/** `{{i}}` in a body template is replaced by the request's index (see load.ts). */
export function fusionBody(stream: boolean): Record<string, unknown> {
  return {
    model: "openrouter/fusion",
    stream,
    messages: [
      {
        role: "user",
        content:
          "Benchmark request {{i}}: compare ridge, lasso and elastic-net regression for a small data set.",
      },
    ],
    plugins: [{ id: "fusion", analysis_models: [...PANEL_MODELS], model: JUDGE_MODEL }],
  };
}

export function plainBody(stream: boolean): Record<string, unknown> {
  return {
    model: PLAIN_MODEL,
    stream,
    messages: [{ role: "user", content: "Benchmark pass-through request {{i}}: say hello." }],
  };
}

/** Scripts per model: every call waits `latencyMs` before its headers, `tokenDelayMs` between streamed chunks. */
export function scripts(latencyMs: number, tokenDelayMs: number): Record<string, Script> {
  const out: Record<string, Script> = {};
  for (const model of PANEL_MODELS) out[model] = { latencyMs, tokenDelayMs, toolSteps: 1 };
  // The judge (also the writer, under the alias) answers without a tool step of its own.
  out[JUDGE_MODEL] = { latencyMs, tokenDelayMs, toolSteps: 0 };
  return out;
}
