import type { WebToolName } from "@fusion/wire";

export interface ToolResult {
  name: string;
  ok: boolean;
  content: string;
  urls: Array<{ url: string; title?: string }>;
}

/** What runs the web tools; implemented by @fusion/web-tools. */
export interface ToolExecutor {
  definitions(names: ReadonlyArray<WebToolName>): unknown[];
  execute(name: string, argumentsJson: string, signal?: AbortSignal): Promise<ToolResult>;
  /**
   * How many tool calls of one model turn are run (`MAX_TOOL_CALLS_PER_TURN`); the rest are answered
   * with a tool error, not run. Default `DEFAULT_MAX_TOOL_CALLS_PER_TURN`.
   */
  readonly maxCallsPerTurn?: number;
}
