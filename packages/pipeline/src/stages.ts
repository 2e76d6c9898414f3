import {
  emptyServerToolUse,
  type PanelResult,
  type ServerToolUse,
  type Stage,
  type Usage,
} from "@fusion/wire";

export function stageOf(
  model: string,
  status: Stage["status"],
  latencyMs: number,
  usage: Usage,
  tools: ServerToolUse = emptyServerToolUse(),
  error?: string,
): Stage {
  return {
    model,
    status,
    latency_ms: latencyMs,
    usage,
    tool_calls_requested: tools.tool_calls_requested,
    tool_calls_executed: tools.tool_calls_executed,
    web_search_requests: tools.web_search_requests,
    ...(error ? { error } : {}),
  };
}

export function panelStage(result: PanelResult): Stage {
  return stageOf(
    result.model,
    result.status,
    result.latencyMs,
    result.usage,
    result.serverToolUse,
    result.error,
  );
}

export function stageTools(stage: Stage): ServerToolUse {
  return {
    web_search_requests: stage.web_search_requests,
    tool_calls_requested: stage.tool_calls_requested,
    tool_calls_executed: stage.tool_calls_executed,
  };
}
