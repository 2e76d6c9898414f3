import { z } from "zod";

/**
 * Loose schemas for the OpenAI chat-completions wire format. They check what this service relies on
 * and keep every other field, so that parameters we do not know pass through to the upstream intact.
 */

export const toolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal("function").default("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof toolCallSchema>;

const contentPartSchema = z.looseObject({ type: z.string() });
const messageContentSchema = z.union([z.string(), z.array(contentPartSchema), z.null()]);

export const chatMessageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: messageContentSchema.optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  tool_call_id: z.string().optional(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const functionToolSchema = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1).max(64),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const usageSchema = z.looseObject({
  prompt_tokens: z.number().default(0),
  completion_tokens: z.number().default(0),
  total_tokens: z.number().default(0),
  cost: z.number().optional(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().optional() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().optional() }).nullish(),
});
export type Usage = z.infer<typeof usageSchema>;

export const chatCompletionSchema = z.looseObject({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().optional(),
      message: z.looseObject({
        role: z.string().optional(),
        content: z.string().nullish(),
        tool_calls: z.array(toolCallSchema).nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

const toolCallDeltaSchema = z.looseObject({
  index: z.number(),
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

export const chatCompletionChunkSchema = z.looseObject({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().optional(),
        delta: z
          .looseObject({
            role: z.string().nullish(),
            content: z.string().nullish(),
            tool_calls: z.array(toolCallDeltaSchema).nullish(),
          })
          .optional(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: usageSchema.nullish(),
  error: z
    .looseObject({ code: z.union([z.string(), z.number()]).optional(), message: z.string() })
    .optional(),
});
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/** The result of one model call, streamed or not, after assembly. */
export interface AssistantTurn {
  model: string;
  content: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: Usage;
}
