import type { AssistantTurn, ChatMessage } from "@fusion/wire";
import { isRecord } from "./errors.ts";

/**
 * The assistant message that puts `turn` back into a conversation upstream: its content as the
 * provider sent it (the array of parts when it sent one, else the text; null when only tool calls
 * came), its tool calls with their ids, and its reasoning fields unchanged (DeepSeek refuses a
 * follow-up without `reasoning_content`; OpenRouter needs `reasoning_details` back for Gemini's thought
 * signatures and Anthropic's thinking blocks).
 */
export function assistantMessage(turn: AssistantTurn): ChatMessage {
  const parts = turn.contentParts?.filter(isContentPart);
  const text = turn.content === "" && turn.toolCalls.length > 0 ? null : turn.content;
  const message: ChatMessage = { role: "assistant", content: parts ?? text };
  if (turn.toolCalls.length > 0) message.tool_calls = turn.toolCalls;
  return { ...message, ...turn.reasoning };
}

function isContentPart(part: unknown): part is { type: string } {
  return isRecord(part) && typeof part.type === "string";
}
