import type { Usage } from "@fusion/wire";
import { usageOf } from "./fusion-result.ts";
import { isObject, objects, parseJsonObject, str } from "./json-fields.ts";
import type { SseMessage } from "./reduce.ts";
import type { RunStatus } from "./view-state.ts";

/** The single model the fusion is compared with: its streamed answer, latency and cost. */
export interface CompareState {
  model: string;
  status: RunStatus;
  text: string;
  error: string | null;
  /** Client times (ms): request sent, first text, end. */
  startedAt: number | null;
  firstTextAt: number | null;
  endedAt: number | null;
  usage: Usage | null;
}

export const idleCompare: CompareState = {
  model: "",
  status: "idle",
  text: "",
  error: null,
  startedAt: null,
  firstTextAt: null,
  endedAt: null,
  usage: null,
};

export function startCompare(model: string, now: number): CompareState {
  return { ...idleCompare, model, status: "running", startedAt: now };
}

/** The compared answer after one SSE event of a plain streaming chat completion, received at `now`. */
export function reduceCompare(state: CompareState, message: SseMessage, now: number): CompareState {
  if (state.status !== "running") return state;
  if (message.data === "[DONE]") return { ...state, status: "done", endedAt: now };
  const chunk = parseJsonObject(message.data);
  if (!chunk) return state;
  if (chunk.error !== undefined) {
    const error = isObject(chunk.error) ? str(chunk.error.message) : str(chunk.error);
    return { ...state, status: "failed", error: error ?? "the model failed", endedAt: now };
  }
  let next = state;
  const delta = objects(chunk.choices)[0]?.delta;
  const content = isObject(delta) ? str(delta.content) : undefined;
  if (content) next = { ...next, text: next.text + content, firstTextAt: next.firstTextAt ?? now };
  const model = str(chunk.model);
  if (model) next = { ...next, model };
  const usage = usageOf(chunk.usage);
  if (usage) next = { ...next, usage };
  return next;
}

/** The compared run when it ended outside its stream (an HTTP error, a lost connection, a cancel). */
export function endCompare(
  state: CompareState,
  status: "failed" | "cancelled" | "done",
  now: number,
  error?: string,
) {
  if (state.status !== "running") return state;
  return { ...state, status, endedAt: now, error: error ?? null };
}
