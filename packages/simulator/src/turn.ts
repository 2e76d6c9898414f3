import type { SimRequest } from "./chat-request.ts";
import type { Script } from "./script.ts";

/** A tool call the simulated model emits. `arguments` is the raw string (it may be invalid JSON). */
export interface EmittedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What the simulated model answers in one turn. */
export interface Turn {
  text: string;
  toolCalls: EmittedToolCall[];
  /** `url_citation` annotations of the answer (OpenRouter's web search server tool). */
  annotations?: UrlCitationAnnotation[];
  /** Web searches run within the call, reported as `usage.server_tool_use.web_search_requests`. */
  webSearches?: number;
}

/** OpenRouter's citation of a web search result: the span of the answer that cites it. */
export interface UrlCitationAnnotation {
  type: "url_citation";
  url_citation: { url: string; title: string; content: string; start_index: number; end_index: number };
}

/** What a role's behaviour gets to decide its turn. */
export interface TurnContext {
  req: SimRequest;
  /** The script for this model and role (an empty script when none applies). */
  script: Script;
  /** The concrete model name the response carries. */
  concreteModel: string;
  /** Scheme and host of this simulator as the client addressed it, e.g. `http://127.0.0.1:1234`. */
  baseUrl: string;
  /** The request's sequence number, used for deterministic ids. */
  seq: number;
}

export function textTurn(text: string): Turn {
  return { text, toolCalls: [] };
}

function toolCallId(ctx: TurnContext, index: number): string {
  return `call_sim_${ctx.seq}_${index}`;
}

/** A turn calling the given tools; arguments objects are serialised, strings are sent as they are. */
export function toolTurn(ctx: TurnContext, calls: { name: string; arguments: string | object }[]): Turn {
  return {
    text: "",
    toolCalls: calls.map((call, i) => ({
      id: toolCallId(ctx, i),
      name: call.name,
      arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
    })),
  };
}
