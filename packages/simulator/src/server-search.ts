import { lastUserText } from "./chat-request.ts";
import { SERVER_WEB_SEARCH_TOOL } from "./roles.ts";
import { SEARCH_RESULT_COUNT, searchResults } from "./search.ts";
import type { Turn, TurnContext, UrlCitationAnnotation } from "./turn.ts";

/** OpenRouter's default `max_results` of its web search server tool. */
const DEFAULT_MAX_RESULTS = 5;

/** Whether the request offers OpenRouter's web search server tool. */
export function offersServerSearch(ctx: TurnContext): boolean {
  return ctx.req.serverTools.has(SERVER_WEB_SEARCH_TOOL);
}

/** The tool's `max_results` (1 to 25), capped at the results the simulator has. */
function maxResults(ctx: TurnContext): number {
  const asked = ctx.req.serverTools.get(SERVER_WEB_SEARCH_TOOL)?.max_results;
  const n = typeof asked === "number" && Number.isInteger(asked) ? asked : DEFAULT_MAX_RESULTS;
  return Math.min(SEARCH_RESULT_COUNT, Math.max(1, Math.min(25, n)));
}

/**
 * The answer of a model given OpenRouter's `openrouter:web_search` server tool: the upstream searched
 * (the simulator's search pages for the question) within the call, and the answer cites each result
 * by URL, with a `url_citation` annotation marking where (as OpenRouter returns them:
 * `{ type, url_citation: { url, title, content, start_index, end_index } }`). One search is reported
 * in the usage's `server_tool_use`.
 */
export function serverSearchAnswer(ctx: TurnContext, query: string): Turn {
  const results = searchResults(query, ctx.baseUrl).slice(0, maxResults(ctx));
  let text = `Answer from ${ctx.concreteModel}: ${lastUserText(ctx.req).slice(0, 80)}. Sources: `;
  const annotations: UrlCitationAnnotation[] = results.map((result, i) => {
    if (i > 0) text += ", ";
    const start = text.length;
    text += result.url;
    return {
      type: "url_citation",
      url_citation: {
        url: result.url,
        title: result.title,
        content: result.content,
        start_index: start,
        end_index: text.length,
      },
    };
  });
  text += ".";
  return { text, toolCalls: [], annotations, webSearches: 1 };
}
