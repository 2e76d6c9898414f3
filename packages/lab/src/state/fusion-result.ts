import type { Analysis, Source, Stage, Usage } from "@fusion/wire";
import { isObject, type JsonObject, num, objects, str, strings } from "./json-fields.ts";
import type { Breakdown, FusionResultView } from "./view-state.ts";

/** A usage record from the wire, or undefined when it is not one. */
export function usageOf(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = num(value.prompt_tokens) ?? 0;
  const completion = num(value.completion_tokens) ?? 0;
  const cost = num(value.cost);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: num(value.total_tokens) ?? prompt + completion,
    ...(cost !== undefined ? { cost } : {}),
  };
}

function sourcesOf(item: JsonObject): { sources?: string[] } {
  return Array.isArray(item.sources) ? { sources: strings(item.sources) } : {};
}

function analysisOf(value: unknown): Analysis | undefined {
  if (!isObject(value)) return undefined;
  return {
    consensus: strings(value.consensus),
    ...(Array.isArray(value.consensus_sources)
      ? { consensus_sources: value.consensus_sources.map((s) => strings(s)) }
      : {}),
    contradictions: objects(value.contradictions).map((c) => ({
      topic: str(c.topic) ?? "",
      stances: objects(c.stances).map((s) => ({ model: str(s.model) ?? "", stance: str(s.stance) ?? "" })),
      ...sourcesOf(c),
    })),
    partial_coverage: objects(value.partial_coverage).map((p) => ({
      models: strings(p.models),
      point: str(p.point) ?? "",
      ...sourcesOf(p),
    })),
    unique_insights: objects(value.unique_insights).map((u) => ({
      model: str(u.model) ?? "",
      insight: str(u.insight) ?? "",
      ...sourcesOf(u),
    })),
    blind_spots: strings(value.blind_spots),
  };
}

function stageOf(value: unknown): Stage | undefined {
  if (!isObject(value)) return undefined;
  const status = str(value.status);
  const error = str(value.error);
  return {
    model: str(value.model) ?? "",
    status: status === "failed" || status === "cancelled" || status === "skipped" ? status : "ok",
    latency_ms: num(value.latency_ms) ?? 0,
    usage: usageOf(value.usage) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    tool_calls_requested: num(value.tool_calls_requested) ?? 0,
    tool_calls_executed: num(value.tool_calls_executed) ?? 0,
    web_search_requests: num(value.web_search_requests) ?? 0,
    ...(error !== undefined ? { error } : {}),
  };
}

function breakdownOf(value: unknown): Breakdown | undefined {
  if (!isObject(value)) return undefined;
  const judge = stageOf(value.judge);
  const writer = stageOf(value.writer);
  return {
    panel: objects(value.panel).flatMap((s) => stageOf(s) ?? []),
    ...(judge ? { judge } : {}),
    ...(writer ? { writer } : {}),
  };
}

function sourceListOf(value: unknown): Source[] {
  return objects(value).flatMap((s) => {
    const url = str(s.url);
    const title = str(s.title);
    return url ? [{ url, ...(title ? { title } : {}) }] : [];
  });
}

/** The `fusion` field of a finishing chunk, read liberally (absent lists become empty ones). */
export function fusionResultOf(value: unknown): FusionResultView | undefined {
  if (!isObject(value)) return undefined;
  const analysis = analysisOf(value.analysis);
  const breakdown = breakdownOf(value.breakdown);
  const error = str(value.error);
  const failureReason = str(value.failure_reason);
  return {
    status: value.status === "error" ? "error" : "ok",
    ...(analysis ? { analysis } : {}),
    ...(Array.isArray(value.failed_models) ? { failed_models: strings(value.failed_models) } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(failureReason !== undefined ? { failure_reason: failureReason } : {}),
    sources: sourceListOf(value.sources),
    ...(breakdown ? { breakdown } : {}),
  };
}
