import { lastUserText, type SimRequest, toolResultsFor } from "./chat-request.ts";
import { FUSION_TOOL } from "./roles.ts";
import { type Turn, type TurnContext, textTurn, toolTurn } from "./turn.ts";

const FUSION_KEYWORDS = ["deliberate", "compare", "research", "pros and cons", "analy", "fusion"];

/** The `auto` decision: deliberate on questions that ask for it or are long. */
function wantsFusion(question: string): boolean {
  const lower = question.toLowerCase();
  return question.length > 200 || FUSION_KEYWORDS.some((k) => lower.includes(k));
}

/**
 * A client tool the model should call, from the script's `callTool` or a `call:<name>` marker in the
 * last user message (when that function is offered). It is called once per conversation: when the
 * conversation already holds its result, the model moves on.
 */
function requestedToolCall(ctx: TurnContext): { name: string; arguments: Record<string, unknown> } | null {
  const req: SimRequest = ctx.req;
  if (req.toolChoice === "none") return null;
  let wanted: { name: string; arguments: Record<string, unknown> } | null = null;
  if (ctx.script.callTool) {
    wanted = ctx.script.callTool;
  } else {
    const marker = /call:([A-Za-z0-9_.:-]+)/.exec(lastUserText(req));
    const name = marker?.[1];
    if (name && req.tools.includes(name)) wanted = { name, arguments: {} };
  }
  if (!wanted || toolResultsFor(req, wanted.name).length > 0) return null;
  return wanted;
}

/** The calling model deciding whether to consult the panel. */
export function deciderTurn(ctx: TurnContext): Turn {
  const question = lastUserText(ctx.req);
  const requested = requestedToolCall(ctx);
  if (requested) return toolTurn(ctx, [requested]);
  const mode = ctx.script.fusion ?? "auto";
  const call =
    ctx.req.toolChoice !== "none" && (mode === "call" || (mode === "auto" && wantsFusion(question)));
  if (call) return toolTurn(ctx, [{ name: FUSION_TOOL, arguments: { question } }]);
  return textTurn(ctx.script.reply ?? `Direct answer from ${ctx.concreteModel}: ${question.slice(0, 120)}`);
}

/** Anything else: a greeting that echoes the question (or calls a requested client tool). */
export function plainTurn(ctx: TurnContext): Turn {
  const requested = requestedToolCall(ctx);
  if (requested) return toolTurn(ctx, [requested]);
  const question = lastUserText(ctx.req);
  return textTurn(ctx.script.reply ?? `Hello from ${ctx.concreteModel}. You said: ${question.slice(0, 200)}`);
}
