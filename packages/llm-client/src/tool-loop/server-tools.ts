import type { Usage } from "@fusion/wire";

/**
 * The `tools` and `tool_choice` of one call of the loop.
 *
 * - Function tools with steps left: every function and server tool, `tool_choice: "auto"`.
 * - Function tools once the model must answer: the functions alone with `tool_choice: "none"` (they
 *   stay so that the earlier tool calls of the conversation remain valid); the server tools are left
 *   out, since a server tool would be one more tool step.
 * - Server tools only (e.g. OpenRouter's `openrouter:web_search`, which the upstream runs within the
 *   call): the loop makes one call, offering them with `tool_choice: "auto"`.
 * - Neither: no `tools`, no `tool_choice`.
 */
export function toolFields(
  definitions: unknown[],
  serverTools: unknown[],
  mustAnswer: boolean,
): { tools?: unknown[]; tool_choice?: "auto" | "none" } {
  if (definitions.length === 0) return serverTools.length ? { tools: serverTools, tool_choice: "auto" } : {};
  if (mustAnswer) return { tools: definitions, tool_choice: "none" };
  return { tools: [...definitions, ...serverTools], tool_choice: "auto" };
}

/**
 * The web searches an upstream ran itself within one call, as its usage reports them
 * (`usage.server_tool_use.web_search_requests`, OpenRouter's server tools); 0 when it says nothing.
 */
export function upstreamWebSearches(usage: Usage): number {
  const reported = (usage as { server_tool_use?: { web_search_requests?: unknown } | null }).server_tool_use;
  const count = reported?.web_search_requests;
  return typeof count === "number" && Number.isInteger(count) && count > 0 ? count : 0;
}
