import { assistantMessage } from "@fusion/llm-client";
import {
  type AssistantTurn,
  type ChatMessage,
  FUSION_TOOL_NAME,
  type FusionToolResult,
  type ToolCall,
  type WriterDecision,
} from "@fusion/wire";
import { lastUserText } from "../prompts.ts";

/** The result of a second fusion call in the same turn (or of extra calls beside the first). */
export const CAPPED: FusionToolResult = {
  status: "error",
  error: "fusion can be invoked once per turn; use the analysis you already have",
  failure_reason: "fusion_invocation_capped",
};

export function fusionCallsOf(turn: AssistantTurn): ToolCall[] {
  return turn.toolCalls.filter((tc) => tc.function.name === FUSION_TOOL_NAME);
}

function questionOf(tc: ToolCall): string | undefined {
  try {
    const args = JSON.parse(tc.function.arguments || "{}") as { question?: unknown };
    return typeof args.question === "string" && args.question.trim() ? args.question : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The writer's decision to call fusion, from its deciding turn; undefined when it did not call it.
 * The caller's own tool calls of this turn are dropped: the model may call them again after the fusion.
 * The assistant message keeps the model's content and reasoning fields as it sent them, so the call
 * that writes the answer sends them back unchanged (DeepSeek refuses a tool result whose assistant
 * turn lost its `reasoning_content`; Anthropic's thinking blocks and Gemini's thought signatures must
 * come back in `reasoning_details`).
 */
export function decisionOf(turn: AssistantTurn, messages: ChatMessage[]): WriterDecision | undefined {
  const fusionCalls = fusionCallsOf(turn);
  const [first, ...extra] = fusionCalls;
  if (!first) return undefined;
  return {
    assistant: { ...assistantMessage(turn), tool_calls: fusionCalls },
    fusionCallId: first.id,
    question: questionOf(first) ?? lastUserText(messages),
    usage: turn.usage,
    extraCallIds: extra.map((tc) => tc.id),
  };
}

const toolResult = (id: string, result: FusionToolResult): ChatMessage => ({
  role: "tool",
  tool_call_id: id,
  content: JSON.stringify(result),
});

/** The conversation after the fusion: the writer's fusion call, its result, and any extra calls capped. */
export function withFusionResult(
  messages: ChatMessage[],
  decision: WriterDecision,
  result: FusionToolResult,
): ChatMessage[] {
  return [
    ...messages,
    decision.assistant,
    toolResult(decision.fusionCallId, result),
    ...decision.extraCallIds.map((id) => toolResult(id, CAPPED)),
  ];
}

/**
 * The conversation after the writer called fusion a second time: its turn (reasoning kept, its other
 * tool calls dropped), each such call answered as capped.
 */
export function withCappedCalls(
  messages: ChatMessage[],
  answer: AssistantTurn,
  again: ToolCall[],
): ChatMessage[] {
  return [
    ...messages,
    { ...assistantMessage(answer), tool_calls: again },
    ...again.map((tc) => toolResult(tc.id, CAPPED)),
  ];
}
