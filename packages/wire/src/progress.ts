import { z } from "zod";
import type { Usage } from "./chat.ts";

/**
 * Progress of a fusion while it works, for clients that want to see into the deliberation. A progress
 * payload carries `object: "fusion.progress"` and an empty `choices` list, so that a client that
 * treats every SSE event as a chunk (the openai SDK yields named events as chunks) reads it as a chunk
 * without content.
 */
export type ProgressStage = "panel" | "judge" | "writer";
export type ProgressStatus = "started" | "tool_call" | "tool_result" | "delta" | "finished" | "failed";

/**
 * What progress a fusion's stages write to its stream. `none`: nothing (nobody streams it). `events`:
 * each stage started, its tool calls, finished or failed. `full` (asked for with `"progress": "full"`):
 * also the panelists' and the judge's text as it is written (`delta`), each tool call's result
 * (`tool_result`) and each stage's usage on `finished` and `failed`.
 */
export const progressLevelSchema = z.enum(["none", "events", "full"]);
export type ProgressLevel = z.infer<typeof progressLevelSchema>;

export interface ProgressFields {
  stage: ProgressStage;
  status: ProgressStatus;
  model: string;
  /** Position of the panelist in `analysis_models`. */
  index?: number;
  /** For `tool_call` and `tool_result`: the tool and what it was asked. */
  tool?: string;
  query?: string;
  url?: string;
  latency_ms?: number;
  error?: string;
  /** For `delta`: a piece of the stage's text (many tokens coalesced). */
  text?: string;
  /** For `delta`: the 0-based tool-loop step whose text it is (a stage's answer is its last step's text). */
  step?: number;
  /** For `delta`: the step's call was restarted upstream; drop the step's text so far, then add `text`. */
  reset?: true;
  /** For `finished` and `failed` at progress `full`: what the stage spent. */
  usage?: Usage;
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
