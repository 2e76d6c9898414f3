import { type SimRequest, toolResultsFor } from "./chat-request.ts";
import type { Role } from "./script.ts";

export const FUSION_TOOL = "openrouter_fusion";
export const WEB_SEARCH_TOOL = "web_search";
export const WEB_FETCH_TOOL = "web_fetch";
/** OpenRouter's web search server tool: the upstream searches within the call. */
export const SERVER_WEB_SEARCH_TOOL = "openrouter:web_search";

/** Classifies a chat-completions request; the first matching role wins. */
export function classifyRequest(req: SimRequest): Role {
  if (toolResultsFor(req, FUSION_TOOL).length > 0) return "writer";
  if (req.tools.includes(FUSION_TOOL)) return "decider";
  const format = req.responseFormat;
  if (
    format &&
    ((format.type === "json_schema" && format.schemaName === "fusion_analysis") ||
      format.type === "json_object")
  ) {
    return "judge";
  }
  if (
    req.tools.includes(WEB_SEARCH_TOOL) ||
    req.tools.includes(WEB_FETCH_TOOL) ||
    req.serverTools.has(SERVER_WEB_SEARCH_TOOL)
  ) {
    return "panelist";
  }
  return "plain";
}
