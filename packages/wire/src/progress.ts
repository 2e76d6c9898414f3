/**
 * Progress of a fusion while it works, for clients that want to see into the deliberation. A progress
 * payload carries `object: "fusion.progress"` and an empty `choices` list, so that a client that
 * treats every SSE event as a chunk (the openai SDK yields named events as chunks) reads it as a chunk
 * without content.
 */
export type ProgressStage = "panel" | "judge" | "writer";
export type ProgressStatus = "started" | "tool_call" | "finished" | "failed";

export interface ProgressFields {
  stage: ProgressStage;
  status: ProgressStatus;
  model: string;
  /** Position of the panelist in `analysis_models`. */
  index?: number;
  /** For `tool_call`: the tool and what it was asked. */
  tool?: string;
  query?: string;
  url?: string;
  latency_ms?: number;
  error?: string;
}

export interface ProgressEvent extends ProgressFields {
  id: string;
  object: "fusion.progress";
  created: number;
  choices: [];
}

export function progressEvent(fusionId: string, fields: ProgressFields): ProgressEvent {
  return {
    id: fusionId,
    object: "fusion.progress",
    created: Math.floor(Date.now() / 1000),
    choices: [],
    ...fields,
  };
}

/** What a tool call asked for, for a progress line: the search query or the URL, cut short. */
export function describeToolCall(
  name: string,
  argumentsJson: string,
): Pick<ProgressFields, "tool" | "query" | "url"> {
  try {
    const args = JSON.parse(argumentsJson || "{}") as { query?: unknown; url?: unknown };
    const cut = (v: unknown) => (typeof v === "string" ? v.slice(0, 300) : undefined);
    return {
      tool: name,
      ...(cut(args.query) !== undefined ? { query: cut(args.query) } : {}),
      ...(cut(args.url) !== undefined ? { url: cut(args.url) } : {}),
    };
  } catch {
    return { tool: name };
  }
}
