import { toolResultsFor } from "./chat-request.ts";
import { FUSION_TOOL } from "./roles.ts";
import { type Turn, type TurnContext, textTurn } from "./turn.ts";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Summarises the fusion tool result so that tests can see what the writer received. */
function describeFusionResult(content: string): string {
  let result: unknown;
  try {
    result = JSON.parse(content);
  } catch {
    return " The panel result could not be read.";
  }
  if (!isRecord(result)) return " The panel result could not be read.";
  const panel = Array.isArray(result.responses)
    ? result.responses
        .map((r) => (isRecord(r) && typeof r.model === "string" ? r.model : null))
        .filter((m): m is string => m !== null)
        .join(", ")
    : "";
  let text: string;
  if (isRecord(result.analysis)) {
    const consensus = stringList(result.analysis.consensus)[0] ?? "none";
    text = ` Consensus: ${consensus}. Panel: ${panel}.`;
    const sources = result.analysis.consensus_sources;
    const source = Array.isArray(sources) ? stringList(sources[0])[0] : undefined;
    if (source) text += ` See ${source} for details.`;
  } else if (result.status === "error") {
    const reason = typeof result.failure_reason === "string" ? result.failure_reason : "unknown";
    text = ` The panel could not be consulted (${reason}).`;
  } else {
    text = ` No analysis was available. Panel: ${panel}.`;
  }
  const failed = stringList(result.failed_models);
  if (failed.length > 0) text += ` Failed: ${failed.join(", ")}.`;
  return text;
}

/** The calling model's final answer after the fusion tool returned. */
export function writerTurn(ctx: TurnContext): Turn {
  if (ctx.script.reply !== undefined) return textTurn(ctx.script.reply);
  const results = toolResultsFor(ctx.req, FUSION_TOOL);
  const last = results[results.length - 1];
  return textTurn(`Final answer from ${ctx.concreteModel}.${describeFusionResult(last?.text ?? "")}`);
}
