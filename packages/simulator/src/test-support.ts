/** Helpers for tests that talk to a simulator: its own, and those of the packages it stands in for. */

import { readSseFrames } from "@fusion/testing";

export { type Recording, readRecording, recordingSources } from "./recordings.ts";
export { useSimulator } from "./use-simulator.ts";

export function chat(
  baseUrl: string,
  body: object,
  path = "/v1/chat/completions",
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: "POST",
    signal,
    headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: JSON.stringify(body),
  });
}

export function user(content: string) {
  return { role: "user", content };
}

export function tool(name: string) {
  return { type: "function", function: { name, parameters: { type: "object" } } };
}

/** The `data:` payloads of an SSE body, in order. */
export async function ssePayloads(res: Response): Promise<string[]> {
  const frames = await readSseFrames(res);
  return frames.flatMap((frame) => (frame.data === undefined ? [] : [frame.data]));
}

export interface ChunkShape {
  id: string;
  object: string;
  model: string;
  choices: {
    index: number;
    delta: {
      role?: string;
      content?: string;
      tool_calls?: {
        index: number;
        id?: string;
        type?: string;
        function: { name?: string; arguments?: string };
      }[];
    };
    finish_reason: string | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost: number };
}

export interface Assembled {
  chunks: ChunkShape[];
  content: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string | null;
  usage: ChunkShape["usage"];
  done: boolean;
}

/** Reassembles a streamed completion the way an OpenAI client does. */
export async function assemble(res: Response): Promise<Assembled> {
  const payloads = await ssePayloads(res);
  const done = payloads[payloads.length - 1] === "[DONE]";
  const chunks = payloads.filter((p) => p !== "[DONE]").map((p) => JSON.parse(p) as ChunkShape);
  let content = "";
  const toolCalls: Assembled["toolCalls"] = [];
  let finishReason: string | null = null;
  let usage: ChunkShape["usage"];
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      for (const fragment of choice.delta.tool_calls ?? []) {
        const call = toolCalls[fragment.index] ?? { id: "", name: "", arguments: "" };
        toolCalls[fragment.index] = call;
        if (fragment.id) call.id = fragment.id;
        if (fragment.function.name) call.name = fragment.function.name;
        call.arguments += fragment.function.arguments ?? "";
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  return { chunks, content, toolCalls, finishReason, usage, done };
}

export interface CompletionShape {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: string;
      content: string | null;
      tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
    };
    finish_reason: string;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost: number };
}

export async function completion(res: Response): Promise<CompletionShape> {
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  return (await res.json()) as CompletionShape;
}
