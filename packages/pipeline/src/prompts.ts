import type { ChatMessage, Source } from "@fusion/wire";

export const PANEL_SYSTEM_PROMPT = [
  "You are one expert on a panel of AI models. Each panelist answers the user's request independently;",
  "a judge will later compare the answers. Give your own best, complete answer.",
  "Use the web_search and web_fetch tools when facts may be recent, specific or uncertain, and name the",
  "URLs you relied on. State uncertainty plainly instead of guessing.",
].join(" ");

const JUDGE_SYSTEM_PROMPT = [
  "You are the judge of a panel of AI models that answered the same request independently.",
  "Compare their answers; do not merge them or write your own answer.",
  "Report: consensus (points all or most panelists agree on), contradictions (topics where they disagree,",
  "with each model's stance), partial_coverage (points only some panelists covered, naming them),",
  "unique_insights (valuable points from a single model) and blind_spots (what none addressed).",
  "Name models exactly as given. You may use web_search and web_fetch to check contested facts.",
  "After a panelist's answer, <sources> lists the pages it cited, searched or fetched.",
  "Where an item rests on sources the panelists cited, list their URLs in the item's `sources`",
  "(for consensus points, in `consensus_sources`, one list per point, in order); otherwise leave it empty.",
  "Reply with only a JSON object with the keys consensus, consensus_sources, contradictions,",
  "partial_coverage, unique_insights and blind_spots, and nothing else.",
].join(" ");

function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p) => (p.type === "text" && typeof p.text === "string" ? p.text : ""))
    .filter(Boolean)
    .join("\n");
}

export function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "user") return textOf(m.content);
  }
  return "";
}

/**
 * The conversation as a panelist sees it. The caller's own tool calls and results become plain text,
 * because the panel is not given the caller's tools and several providers reject tool turns without
 * them.
 */
function conversationForPanel(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === "tool" || m.role === "function") {
      out.push({
        role: "user",
        content: `[Result of tool call ${m.tool_call_id ?? m.name ?? ""}]\n${textOf(m.content)}`,
      });
    } else if (m.role === "assistant" && m.tool_calls?.length) {
      const calls = m.tool_calls.map((c) => `${c.function.name}(${c.function.arguments})`).join("\n");
      const text = textOf(m.content);
      out.push({ role: "assistant", content: `${text ? `${text}\n` : ""}[Called tools]\n${calls}` });
    } else if (m.role === "system" || m.role === "developer") {
      out.push({ role: "system", content: textOf(m.content) });
    } else {
      out.push({ role: m.role, content: m.content ?? "" });
    }
  }
  return out;
}

/** The question for the panel, when it adds something to the conversation (not only its last user message). */
export function distinctQuestion(messages: ChatMessage[], question?: string): string | undefined {
  const asked = question?.trim();
  return asked && asked !== lastUserText(messages).trim() ? asked : undefined;
}

export function buildPanelMessages(messages: ChatMessage[], question?: string): ChatMessage[] {
  const conversation = conversationForPanel(messages);
  const out: ChatMessage[] = [{ role: "system", content: PANEL_SYSTEM_PROMPT }, ...conversation];
  const asked = distinctQuestion(messages, question);
  if (asked) out.push({ role: "user", content: `The question for the panel: ${asked}` });
  return out;
}

/** One panelist's answer as the judge reads it: its text, and the sources it used. */
export interface JudgedAnswer {
  model: string;
  /** The answer's text only, never the panelist's reasoning. */
  content: string;
  sources?: Source[];
}

/** The pages a panelist used, after its answer: one per line: the URL, then its title. */
function sourcesBlock({ model, sources = [] }: JudgedAnswer): string {
  if (sources.length === 0) return "";
  const lines = sources.map((s) => (s.title ? `${s.url} — ${s.title}` : s.url));
  return `\n<sources model="${model}">\n${lines.join("\n")}\n</sources>`;
}

export function buildJudgeMessages(
  panelMessages: ChatMessage[],
  answers: JudgedAnswer[],
  failedModels: string[],
): ChatMessage[] {
  const request = panelMessages
    .filter((m) => m.role === "user")
    .map((m) => textOf(m.content))
    .join("\n\n");
  const blocks = answers
    .map((r) => `<response model="${r.model}">\n${r.content}\n</response>${sourcesBlock(r)}`)
    .join("\n\n");
  const failed = failedModels.length
    ? `\n\nThese panelists failed and gave no answer: ${failedModels.join(", ")}.`
    : "";
  return [
    { role: "system", content: JUDGE_SYSTEM_PROMPT },
    {
      role: "user",
      content: `<request>\n${request}\n</request>\n\nThe panel's answers:\n\n${blocks}${failed}\n\nReturn the JSON analysis.`,
    },
  ];
}

export function repairMessage(error: string): ChatMessage {
  return {
    role: "user",
    content: `Your reply could not be used: ${error}. Reply again with only the JSON object with the keys consensus, contradictions, partial_coverage, unique_insights and blind_spots.`,
  };
}
