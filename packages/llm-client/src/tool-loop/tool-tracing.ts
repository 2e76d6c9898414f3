import { describeToolCall } from "@fusion/wire";
import { SpanStatusCode } from "@opentelemetry/api";
import { markFailed, tracer, tracingEnabled } from "../trace.ts";
import type { ToolResult } from "./tool-executor.ts";

/**
 * One tool call of a panelist or the judge (`execute_tool web_search`) in a span: the tool, its query
 * or URL, whether it answered and how many URLs it brought. A tool that answers with an error (the
 * model is told so) marks the span as an error. With tracing off, the call runs untouched.
 */
export function traceToolCall(
  name: string,
  argumentsJson: string,
  run: () => Promise<ToolResult>,
): Promise<ToolResult> {
  if (!tracingEnabled()) return run();
  const described = describeToolCall(name, argumentsJson);
  const attributes = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": name,
    ...(described.query !== undefined ? { "fusion.tool.query": described.query } : {}),
    ...(described.url !== undefined ? { "fusion.tool.url": described.url } : {}),
  };
  return tracer().startActiveSpan(`execute_tool ${name}`, { attributes }, async (span) => {
    try {
      const result = await run();
      span.setAttributes({ "fusion.tool.ok": result.ok, "fusion.tool.urls": result.urls.length });
      if (!result.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: result.content.slice(0, 300) });
      return result;
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}
