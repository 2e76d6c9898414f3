import type { Usage } from "./chat.ts";

export interface ServerToolUse {
  web_search_requests: number;
  tool_calls_requested: number;
  tool_calls_executed: number;
}

export function emptyUsage(): Usage {
  return { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
}

export function emptyServerToolUse(): ServerToolUse {
  return { web_search_requests: 0, tool_calls_requested: 0, tool_calls_executed: 0 };
}

/** Adds usage records field by field; `cost` and the detail counters appear only when some input has them. */
export function addUsage(...items: Array<Usage | null | undefined>): Usage {
  const out = emptyUsage();
  let cost: number | undefined;
  let cached: number | undefined;
  let reasoning: number | undefined;
  for (const u of items) {
    if (!u) continue;
    out.prompt_tokens += u.prompt_tokens ?? 0;
    out.completion_tokens += u.completion_tokens ?? 0;
    out.total_tokens += u.total_tokens ?? (u.prompt_tokens ?? 0) + (u.completion_tokens ?? 0);
    if (typeof u.cost === "number") cost = (cost ?? 0) + u.cost;
    const c = u.prompt_tokens_details?.cached_tokens;
    if (typeof c === "number") cached = (cached ?? 0) + c;
    const r = u.completion_tokens_details?.reasoning_tokens;
    if (typeof r === "number") reasoning = (reasoning ?? 0) + r;
  }
  if (cost !== undefined) out.cost = Math.round(cost * 1e9) / 1e9;
  if (cached !== undefined) out.prompt_tokens_details = { cached_tokens: cached };
  if (reasoning !== undefined) out.completion_tokens_details = { reasoning_tokens: reasoning };
  return out;
}

export function addServerToolUse(...items: Array<ServerToolUse | null | undefined>): ServerToolUse {
  const out = emptyServerToolUse();
  for (const s of items) {
    if (!s) continue;
    out.web_search_requests += s.web_search_requests;
    out.tool_calls_requested += s.tool_calls_requested;
    out.tool_calls_executed += s.tool_calls_executed;
  }
  return out;
}
