import type { SimulatorControl } from "@fusion/simulator";
import { readSseFrames } from "@fusion/testing";
import { expect } from "vitest";
import { recordedTurn, sumUsage, type UsageTotals } from "./recorded.ts";

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A fusion forced through the server tool: `writer` writes, `judge` judges, `panel` answers. */
export function forcedFusion(options: { writer: string; judge: string; panel: string[]; stream: boolean }) {
  return {
    model: options.writer,
    stream: options.stream,
    ...(options.stream ? { stream_options: { include_usage: true } } : {}),
    messages: [{ role: "user", content: "Compare what the panel says about this question." }],
    tools: [
      { type: "openrouter:fusion", parameters: { analysis_models: options.panel, model: options.judge } },
    ],
    tool_choice: "required",
  };
}

export interface ClientCall {
  id: string;
  type?: string;
  function: { name: string; arguments: string };
}

/** What a client of the gateway got, from a completion or a stream of chunks. */
export interface ClientAnswer {
  model: string;
  content: string;
  /** `message.reasoning`, or the `delta.reasoning` texts joined. */
  reasoning: string | undefined;
  reasoningDetails: unknown;
  toolCalls: ClientCall[];
  finishReason: string | null;
  usage: Json | undefined;
  fusion: Json | undefined;
  /** The `error` of an error chunk. */
  error: unknown;
  /** Every chunk (streams only). */
  chunks: Json[];
  done: boolean;
}

/** Reads a non-streaming completion of the gateway. */
function fromCompletion(body: Json): ClientAnswer {
  const choice = Array.isArray(body.choices) && isRecord(body.choices[0]) ? body.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  return {
    model: String(body.model ?? ""),
    content: typeof message.content === "string" ? message.content : "",
    reasoning: typeof message.reasoning === "string" ? message.reasoning : undefined,
    reasoningDetails: message.reasoning_details,
    toolCalls: (Array.isArray(message.tool_calls) ? message.tool_calls : []) as ClientCall[],
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    usage: isRecord(body.usage) ? body.usage : undefined,
    fusion: isRecord(body.fusion) ? body.fusion : undefined,
    error: body.error,
    chunks: [],
    done: true,
  };
}

/** Reads a streamed answer of the gateway the way an OpenAI client assembles it. */
async function fromStream(res: Response): Promise<ClientAnswer> {
  const frames = await readSseFrames(res);
  const data = frames.filter((f) => f.data !== undefined && !f.event).map((f) => f.data as string);
  const chunks = data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Json);
  const answer: ClientAnswer = {
    ...fromCompletion({}),
    reasoning: undefined,
    chunks,
    done: data.at(-1) === "[DONE]",
  };
  const calls: ClientCall[] = [];
  for (const chunk of chunks) {
    if (!answer.model && typeof chunk.model === "string") answer.model = chunk.model;
    if (isRecord(chunk.usage)) answer.usage = chunk.usage;
    if (isRecord(chunk.fusion)) answer.fusion = chunk.fusion;
    if (chunk.error !== undefined) answer.error = chunk.error;
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices.filter(isRecord) : []) {
      const delta = isRecord(choice.delta) ? choice.delta : {};
      if (typeof delta.content === "string") answer.content += delta.content;
      if (typeof delta.reasoning === "string") answer.reasoning = (answer.reasoning ?? "") + delta.reasoning;
      for (const fragment of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) {
        const index = typeof fragment.index === "number" ? fragment.index : calls.length;
        const fn = isRecord(fragment.function) ? fragment.function : {};
        const call = calls[index] ?? { id: "", function: { name: "", arguments: "" } };
        calls[index] = call;
        if (typeof fragment.id === "string" && fragment.id) call.id = fragment.id;
        if (typeof fragment.type === "string") call.type = fragment.type;
        if (typeof fn.name === "string") call.function.name += fn.name;
        if (typeof fn.arguments === "string") call.function.arguments += fn.arguments;
      }
      if (typeof choice.finish_reason === "string") answer.finishReason = choice.finish_reason;
    }
  }
  answer.toolCalls = calls.filter(Boolean);
  return answer;
}

/** The gateway's answer to a request, streamed or not. */
export async function answerOf(res: Response, stream: boolean): Promise<ClientAnswer> {
  if (stream) return fromStream(res);
  return fromCompletion((await res.json()) as Json);
}

/** The messages of an upstream request the simulator received. */
export function messagesOf(request: { body: unknown } | undefined): Json[] {
  const body = request?.body;
  return isRecord(body) && Array.isArray(body.messages) ? body.messages.filter(isRecord) : [];
}

/** All the text of the user messages of an upstream request. */
export function userTextOf(request: { body: unknown } | undefined): string {
  return messagesOf(request)
    .filter((m) => m.role === "user")
    .map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)))
    .join("\n");
}

/**
 * The usage a fusion must report: what the simulator answered each of these models, every request
 * counted, from the recording it replayed or from the simulator's own answer.
 */
export async function usageServed(control: SimulatorControl, models: string[]): Promise<UsageTotals> {
  const usages: Array<Json | undefined> = [];
  for (const model of models) {
    for (const request of await control.requests({ model })) {
      usages.push(request.replayed ? (await recordedTurn(request.replayed)).usage : request.usage);
    }
  }
  return sumUsage(usages);
}

/** The usage a client got equals what the upstream reported, cost and reasoning tokens included. */
export function expectUsage(actual: Json | undefined, expected: UsageTotals): void {
  expect(actual).toMatchObject({
    prompt_tokens: expected.prompt_tokens,
    completion_tokens: expected.completion_tokens,
    total_tokens: expected.total_tokens,
  });
  if (expected.cost !== undefined) expect(actual?.cost).toBeCloseTo(expected.cost, 8);
  if (expected.reasoning_tokens !== undefined) {
    expect(actual?.completion_tokens_details).toMatchObject({ reasoning_tokens: expected.reasoning_tokens });
  }
}
