import { type ChatMessage, FUSION_TOOL_NAME, type WriterDecisionInput } from "@fusion/wire";
import { lastUserText } from "../prompts.ts";

/**
 * The writer's decision a forced fusion (alias, `tool_choice`) starts with: one call of the fusion
 * tool, whose question is the conversation's last user message. Only the call's id is stored (with
 * the conversation); the decision is rebuilt from it, so the question is not a second copy in Redis.
 */
export function forcedDecision(fusionCallId: string, messages: ChatMessage[]): WriterDecisionInput {
  const question = lastUserText(messages);
  return {
    assistant: {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: fusionCallId,
          type: "function",
          function: { name: FUSION_TOOL_NAME, arguments: JSON.stringify({ question }) },
        },
      ],
    },
    fusionCallId,
    question,
    usage: {},
    extraCallIds: [],
  };
}
