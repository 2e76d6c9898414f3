import type { WebToolName } from "@fusion/wire";

export interface ToolResult {
  name: string;
  ok: boolean;
  content: string;
  urls: Array<{ url: string; title?: string }>;
  /** Why a failed call failed, in a few words (else read from `content`'s `{"error": ...}`). */
  error?: string;
}

/** Longest reason `toolError` gives. */
const MAX_ERROR_CHARS = 300;

/** Why a tool call failed, short: its `error`, else the `error` of its JSON content, else the content. */
export function toolError(result: ToolResult): string {
  if (result.error) return result.error.slice(0, MAX_ERROR_CHARS);
  try {
    const parsed = JSON.parse(result.content) as { error?: unknown };
    if (typeof parsed.error === "string") return parsed.error.slice(0, MAX_ERROR_CHARS);
  } catch {
    // Not JSON: the content itself says why.
  }
  return result.content.slice(0, MAX_ERROR_CHARS) || "the tool failed";
}

/** What runs the web tools; implemented by @fusion/web-tools. */
export interface ToolExecutor {
  definitions(names: ReadonlyArray<WebToolName>): unknown[];
  /**
   * Tools the upstream runs itself within a call (OpenRouter's `{ type: "openrouter:web_search" }`),
   * sent in `tools` beside the function definitions; absent or `[]`: none.
   */
  serverTools?(names: ReadonlyArray<WebToolName>): Array<Record<string, unknown>>;
  execute(name: string, argumentsJson: string, signal?: AbortSignal): Promise<ToolResult>;
  /**
   * How many tool calls of one model turn are run (`MAX_TOOL_CALLS_PER_TURN`); the rest are answered
   * with a tool error, not run. Default `DEFAULT_MAX_TOOL_CALLS_PER_TURN`.
   */
  readonly maxCallsPerTurn?: number;
}
