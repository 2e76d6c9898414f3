import { partsReasoning } from "@fusion/llm-client";
import type { ChatCompletionChunk, ChatMessage, ReasoningFields } from "@fusion/wire";

/**
 * The writer's reasoning as OpenRouter returns it to a client: `reasoning` (the text, whichever
 * spelling the provider used) and `reasoning_details` (the provider's structured blocks, unchanged).
 */
export interface ClientReasoning {
  reasoning?: string;
  reasoning_details?: unknown[];
}

/** A turn's reasoning fields, and its `content` parts when the provider sent an array (Mistral's thinking parts). */
export type ReasoningSource = ReasoningFields & { contentParts?: readonly unknown[] | undefined };

/**
 * The reasoning text of a turn: OpenRouter's `reasoning`, else `reasoning_content` (DeepSeek, xAI,
 * z.ai), else the text of its thinking parts (Mistral).
 */
function reasoningText(fields: ReasoningSource | undefined): string {
  return (
    fields?.reasoning ||
    fields?.reasoning_content ||
    (fields?.contentParts ? partsReasoning(fields.contentParts) : "")
  );
}

/** The reasoning fields of an assistant message (e.g. the writer's saved decision), as the model sent them. */
export function reasoningOfMessage(message: ChatMessage | undefined): ReasoningSource | undefined {
  if (!message) return undefined;
  const fields: ReasoningSource = {};
  if (Array.isArray(message.content)) fields.contentParts = message.content;
  if (typeof message.reasoning === "string") fields.reasoning = message.reasoning;
  if (typeof message.reasoning_content === "string") fields.reasoning_content = message.reasoning_content;
  if (Array.isArray(message.reasoning_details)) fields.reasoning_details = message.reasoning_details;
  return fields;
}

/**
 * The reasoning of the writer's calls that made one answer (its deciding call, then the call that
 * wrote the answer), for the client's message: the texts joined, the details one after the other.
 */
export function clientReasoning(...turns: Array<ReasoningSource | undefined>): ClientReasoning {
  const text = turns.map(reasoningText).join("");
  const details = turns.flatMap((t) => t?.reasoning_details ?? []);
  return {
    ...(text ? { reasoning: text } : {}),
    ...(details.length ? { reasoning_details: details } : {}),
  };
}

/** The `reasoning_details` a streamed chunk carries on its first choice's delta, as the provider sent them. */
export function chunkReasoningDetails(chunk: ChatCompletionChunk): unknown[] {
  const delta = chunk.choices.find((c) => (c.index ?? 0) === 0)?.delta;
  const details = delta?.reasoning_details;
  return Array.isArray(details) ? details : [];
}
