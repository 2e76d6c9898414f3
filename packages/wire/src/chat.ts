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

/**
 * A tool call as upstreams send it: `id` may be empty or missing, `type` missing, `arguments` missing
 * (OpenRouter → Anthropic omits it for a call without input). Assembly fills them in (see AssistantTurn).
 */
const upstreamToolCallSchema = z.looseObject({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }),
});

/**
 * What a message or a delta may carry besides text: reasoning in the provider's own spelling
 * (`reasoning` for OpenRouter, Groq, Cerebras; `reasoning_content` for DeepSeek, xAI, z.ai;
 * `reasoning_details` for OpenRouter's structured blocks) and `annotations` (e.g. `url_citation`s).
 */
const reasoningAndAnnotationShape = {
  reasoning: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  reasoning_details: z.array(z.unknown()).nullish(),
  annotations: z.array(z.unknown()).nullish(),
};

/** An upstream's `error` object (or string); `message` may be missing, `code` a status or a name. */
const upstreamErrorSchema = z.union([
  z.looseObject({ code: z.union([z.string(), z.number()]).nullish(), message: z.string().nullish() }),
  z.string(),
]);

export const chatCompletionSchema = z.looseObject({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().optional(),
      message: z.looseObject({
        role: z.string().optional(),
        content: messageContentSchema.optional(),
        tool_calls: z.array(upstreamToolCallSchema).nullish(),
        ...reasoningAndAnnotationShape,
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

/** A streamed tool-call fragment: `index` is missing with some providers (Mistral, Google), `id` may be "". */
const toolCallDeltaSchema = z.looseObject({
  index: z.number().optional(),
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
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
            content: messageContentSchema.optional(),
            tool_calls: z.array(toolCallDeltaSchema).nullish(),
            ...reasoningAndAnnotationShape,
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: usageSchema.nullish(),
  error: upstreamErrorSchema.nullish(),
});
export type ToolCallDelta = z.infer<typeof toolCallDeltaSchema>;
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/**
 * The reasoning fields of one assistant turn, each exactly as the provider spelled it (assembled
 * across chunks when streamed), to be sent back unchanged with the turn.
 */
export interface ReasoningFields {
  reasoning?: string;
  reasoning_content?: string;
  reasoning_details?: unknown[];
}

/** The result of one model call, streamed or not, after assembly. */
export interface AssistantTurn {
  model: string;
  /** The answer's text: never reasoning (thinking parts of an array `content` are left out). */
  content: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: Usage;
  /** The reasoning the provider sent, in its own spellings; absent when it sent none. */
  reasoning?: ReasoningFields;
  /** `content` as sent when the provider sent an array of parts (e.g. Mistral's thinking and text). */
  contentParts?: unknown[];
  /** Annotations the provider attached to the message (e.g. OpenRouter's web plugin `url_citation`s). */
  annotations?: unknown[];
}
