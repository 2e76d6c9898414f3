import type { ToolResult } from "./tool-executor.ts";

/** Tool calls of one model turn that run when the executor sets no cap of its own. */
export const DEFAULT_MAX_TOOL_CALLS_PER_TURN = 8;

/** The answer to a tool call beyond the turn's cap: an error the model reads; the call is not run. */
export function overTurnCapResult(name: string, cap: number): ToolResult {
  const error = `not run: at most ${cap} tool calls are run per turn; call fewer tools at once`;
  return { name, ok: false, content: JSON.stringify({ error }), urls: [] };
}
