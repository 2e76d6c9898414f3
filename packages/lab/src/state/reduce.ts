import { applyChunk, applyDone, closeOpenStages } from "./apply-chunk.ts";
import { applyProgress } from "./apply-progress.ts";
import { compareEventIds, msOfEventId } from "./event-ids.ts";
import { parseJsonObject } from "./json-fields.ts";
import type { ViewState } from "./view-state.ts";

/** One SSE event as the parser gives it (eventsource-parser's `EventSourceMessage`). */
export interface SseMessage {
  id?: string | undefined;
  event?: string | undefined;
  data: string;
}

/**
 * The view state after one SSE event of a fusion's stream: progress events fill the panel, judge and
 * writer cards; chunks carry the answer, its citations, the fusion result and usage; `[DONE]` ends it.
 * An event at or before the last applied id is ignored, so resuming after a saved id never applies
 * anything twice. Pure: the time of an event is the ms part of its id.
 */
export function reduceEvent(state: ViewState, message: SseMessage): ViewState {
  const { id } = message;
  if (id && state.lastEventId && compareEventIds(id, state.lastEventId) <= 0) return state;
  const ms = msOfEventId(id);
  const next: ViewState = {
    ...state,
    ...(id ? { lastEventId: id } : {}),
    ...(ms !== undefined ? { firstMs: state.firstMs ?? ms, lastMs: Math.max(state.lastMs ?? ms, ms) } : {}),
  };
  const at = ms ?? next.lastMs ?? 0;
  if (message.data === "[DONE]") return applyDone(next, at);
  const body = parseJsonObject(message.data);
  if (!body) return next;
  if (message.event === "fusion.progress" || body.object === "fusion.progress") {
    return applyProgress(next, body, at);
  }
  if (message.event && message.event !== "message") return next;
  return applyChunk(next, body, at);
}

/** The run after the user cancelled it: its open stages stop where they are. */
export function markCancelled(state: ViewState): ViewState {
  if (state.status !== "running") return state;
  return closeOpenStages({ ...state, status: "cancelled" }, "cancelled", state.lastMs ?? 0);
}

/** The run after it failed outside the stream (an HTTP error, a stream that could not be resumed). */
export function markFailed(state: ViewState, error: string): ViewState {
  return state.status === "running" || state.status === "idle"
    ? { ...state, status: "failed", error }
    : state;
}
