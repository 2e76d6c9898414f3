import { z } from "zod";
import { chatMessageSchema, usageSchema } from "./chat.ts";
import { toolChoiceSchema } from "./chat-request.ts";

/**
 * The caller's request as the writer (the calling model) gets it: the conversation, the caller's own
 * tools and tool choice, and every other parameter, kept as it came, for the upstream. Model, stream
 * and the fusion fields are not part of it.
 */
export const writerRequestSchema = z.looseObject({
  messages: z.array(chatMessageSchema),
  /** The caller's tools: functions, and server tools such as `openrouter:web_search`, passed on as they are. */
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  tool_choice: toolChoiceSchema.optional(),
});

/** The writer's decision to call fusion, kept so that the step that writes the answer can resume from it. */
export const writerDecisionSchema = z.object({
  /** The writer's assistant turn with its fusion call(s); the caller's own tool calls are dropped. */
  assistant: chatMessageSchema,
  fusionCallId: z.string(),
  question: z.string().optional(),
  /** What the deciding call spent. */
  usage: usageSchema,
  /** Further fusion calls of the same turn: each is answered as capped. */
  extraCallIds: z.array(z.string()).default([]),
});
export type WriterDecision = z.infer<typeof writerDecisionSchema>;
export type WriterDecisionInput = z.input<typeof writerDecisionSchema>;
