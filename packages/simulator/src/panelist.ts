import { findUrls, lastUserText, previousToolCalls, toolMessages } from "./chat-request.ts";
import { WEB_FETCH_TOOL, WEB_SEARCH_TOOL } from "./roles.ts";
import { offersServerSearch, serverSearchAnswer } from "./server-search.ts";
import { type Turn, type TurnContext, textTurn, toolTurn } from "./turn.ts";

/** Assistant turns with tool calls so far: the tool loop's step number. */
function toolSteps(ctx: TurnContext): number {
  return ctx.req.messages.filter((m) => m.role === "assistant" && m.toolCalls.length > 0).length;
}

/** Whether this turn should call a web tool rather than answer. */
export function shouldCallWebTool(ctx: TurnContext): boolean {
  const { req, script } = ctx;
  const offered = req.tools.includes(WEB_SEARCH_TOOL) || req.tools.includes(WEB_FETCH_TOOL);
  if (!offered || req.toolChoice === "none") return false;
  if (script.toolSteps === "endless") return true;
  return toolSteps(ctx) < (script.toolSteps ?? 1);
}

function primerUrl(ctx: TurnContext, i: number): string {
  return `${ctx.baseUrl}/pages/fusion-primer${i > 0 ? `-${i + 1}` : ""}`;
}

/** URLs to fetch: those found in tool results that were not fetched yet, then the rest. */
function fetchCandidates(ctx: TurnContext): string[] {
  const found = findUrls(toolMessages(ctx.req).map((m) => m.text));
  const fetched = new Set<string>();
  for (const call of previousToolCalls(ctx.req)) {
    if (call.name !== WEB_FETCH_TOOL) continue;
    try {
      const args: unknown = JSON.parse(call.arguments);
      if (typeof args === "object" && args !== null && "url" in args && typeof args.url === "string") {
        fetched.add(args.url);
      }
    } catch {
      // a broken earlier call fetched nothing
    }
  }
  return [...found.filter((u) => !fetched.has(u)), ...found.filter((u) => fetched.has(u))];
}

/** What a model searches for: the question, or the request a judge's prompt quotes (not the answers after it). */
function searchQuery(text: string): string {
  const quoted = /<request>\s*([\s\S]*?)\s*<\/request>/.exec(text)?.[1];
  return (quoted || text).slice(0, 100);
}

/** One tool-calling turn of the web tool loop. */
export function webToolTurn(ctx: TurnContext): Turn {
  const { req, script } = ctx;
  const step = toolSteps(ctx);
  const hasSearch = req.tools.includes(WEB_SEARCH_TOOL);
  const hasFetch = req.tools.includes(WEB_FETCH_TOOL);
  const search = hasSearch && (step % 2 === 0 || !hasFetch);
  const count = script.parallelTools ?? 1;
  const query = searchQuery(lastUserText(req));
  const calls: { name: string; arguments: string | object }[] = [];
  if (step === 0 && hasFetch && script.fetchUrls) {
    for (let copy = 0; copy < (script.fetchRepeat ?? 1); copy++) {
      for (const url of script.fetchUrls) calls.push({ name: WEB_FETCH_TOOL, arguments: { url } });
    }
  } else if (search) {
    for (let i = 0; i < count; i++) {
      calls.push({ name: WEB_SEARCH_TOOL, arguments: { query: count > 1 ? `${query} #${i + 1}` : query } });
    }
  } else {
    const candidates = step === 0 ? [] : fetchCandidates(ctx);
    for (let i = 0; i < count; i++) {
      calls.push({ name: WEB_FETCH_TOOL, arguments: { url: candidates[i] ?? primerUrl(ctx, i) } });
    }
  }
  const first = calls[0];
  if (step === 0 && first) {
    if (script.badToolCall === "invalid-json") first.arguments = '{"query": ';
    if (script.badToolCall === "unknown-tool") first.name = "no_such_tool";
  }
  return toolTurn(ctx, calls);
}

/** The panelist's answer, citing what the tools returned. */
function panelistAnswer(ctx: TurnContext): Turn {
  if (ctx.script.reply !== undefined) return textTurn(ctx.script.reply);
  let text = `Answer from ${ctx.concreteModel}: ${lastUserText(ctx.req).slice(0, 80)}.`;
  const tools = toolMessages(ctx.req);
  if (tools.length > 0) {
    const urls = findUrls(tools.map((m) => m.text)).slice(0, 5);
    text += ` Sources: ${urls.length > 0 ? urls.join(", ") : "none"}.`;
    const fetched = fetchedContent(tools.map((m) => m.text));
    if (fetched !== null) text += ` Fetched: "${fetched.slice(0, 60)}".`;
    const errors = toolErrors(tools.map((m) => m.text));
    if (errors.length > 0) text += ` Tool errors: ${errors.join(" | ")}.`;
  }
  return textTurn(text);
}

/** A string field of a tool result that is a JSON object, else undefined. */
function stringField(text: string, field: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const value = (parsed as Record<string, unknown>)[field];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined; // not JSON
  }
}

/** The `error` field of every tool result that is `{"error": "..."}`, as the service reports tool failures. */
function toolErrors(texts: string[]): string[] {
  return texts.flatMap((text) => stringField(text, "error") ?? []);
}

/** The `content` field of the first tool result that is a fetched page. */
function fetchedContent(texts: string[]): string | null {
  for (const text of texts) {
    const content = stringField(text, "content");
    if (content !== undefined) return content;
  }
  return null;
}

/**
 * A panel member answering with web tools. Given OpenRouter's web search server tool (and no scripted
 * reply), it searches within the call and answers at once, citing the results in annotations.
 */
export function panelistTurn(ctx: TurnContext): Turn {
  if (offersServerSearch(ctx) && ctx.script.reply === undefined) {
    return serverSearchAnswer(ctx, searchQuery(lastUserText(ctx.req)));
  }
  return shouldCallWebTool(ctx) ? webToolTurn(ctx) : panelistAnswer(ctx);
}
