import { FusionError } from "@fusion/wire";

/** The request-size limits of `env.ts` that are checked before the schema runs. */
export interface RequestLimits {
  MAX_MESSAGES: number;
  MAX_MESSAGE_CHARS: number;
  MAX_TOTAL_CHARS: number;
}

/**
 * Deepest nesting of arrays and objects a body may have. Far beyond any real request (tool schemas
 * included), and far below what JSON.stringify survives: a body nested thousands of levels deep would
 * otherwise overflow the stack where it is serialised again (the proxy, the job queue).
 */
export const MAX_JSON_DEPTH = 100;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Characters of text a model reads in one message: string content, the `text` of content parts and
 * the arguments of tool calls. Fields of the wrong type count nothing (the schema reports them).
 */
export function messageChars(message: unknown): number {
  if (!isRecord(message)) return 0;
  let n = 0;
  const { content, tool_calls } = message;
  if (typeof content === "string") n += content.length;
  else if (Array.isArray(content)) {
    for (const part of content) if (isRecord(part) && typeof part.text === "string") n += part.text.length;
  }
  if (Array.isArray(tool_calls)) {
    for (const call of tool_calls) {
      const fn = isRecord(call) ? call.function : undefined;
      if (isRecord(fn) && typeof fn.arguments === "string") n += fn.arguments.length;
    }
  }
  return n;
}

/** Whether a parsed JSON value nests arrays and objects more than `max` levels (checked without recursion). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { v, depth } = item;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push({ v: child, depth: depth + 1 });
    }
  }
  return false;
}

/**
 * Rejects with 400 a parsed body nested too deeply or whose `messages` exceed the configured count or
 * text length. Runs on the raw JSON, before the schema, so that an oversized list is refused without
 * validating each entry; a body without a `messages` array is left to the schema.
 */
export function checkRequestLimits(body: unknown, limits: RequestLimits): void {
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
    throw new FusionError(
      "bad_request",
      `the request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
      {
        metadata: { limit: "max_depth", max: MAX_JSON_DEPTH },
      },
    );
  }
  if (!isRecord(body) || !Array.isArray(body.messages)) return;
  const messages: unknown[] = body.messages;
  if (messages.length > limits.MAX_MESSAGES) {
    throw new FusionError(
      "bad_request",
      `messages: ${messages.length} messages, more than the ${limits.MAX_MESSAGES} a request may hold`,
      { metadata: { limit: "max_messages", max: limits.MAX_MESSAGES } },
    );
  }
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const n = messageChars(messages[i]);
    if (n > limits.MAX_MESSAGE_CHARS) {
      throw new FusionError(
        "bad_request",
        `messages.${i}: ${n} characters, more than the ${limits.MAX_MESSAGE_CHARS} one message may hold`,
        { metadata: { limit: "max_message_chars", max: limits.MAX_MESSAGE_CHARS } },
      );
    }
    total += n;
  }
  if (total > limits.MAX_TOTAL_CHARS) {
    throw new FusionError(
      "bad_request",
      `messages: ${total} characters in all, more than the ${limits.MAX_TOTAL_CHARS} a request may hold`,
      { metadata: { limit: "max_total_chars", max: limits.MAX_TOTAL_CHARS } },
    );
  }
}
