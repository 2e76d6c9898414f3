import {
  type AssistantTurn,
  addServerToolUse,
  addUsage,
  type ChatMessage,
  FUSION_TOOL_NAME,
  type JudgeResult,
  type PendingEvent,
  type Stage,
  type TurnJobData,
  type Usage,
} from "@fusion/wire";
import { stageOf, stageTools } from "../stages.ts";
import type { ChunkBuilder } from "./chunks.ts";
import { citationsFor } from "./citations.ts";
import { clientReasoning, reasoningOfMessage } from "./reasoning.ts";

export interface FinishInput {
  turn: Pick<TurnJobData, "fusionId" | "createdAt" | "writerModel" | "stream" | "includeUsage" | "decision">;
  /** The writer's last call. */
  answer: AssistantTurn;
  /** What every call of the writer spent. */
  writerUsage: Usage;
  /** The fusion's result, when the writer called fusion (or it was forced). */
  judge: JudgeResult | undefined;
  writerLatencyMs: number;
  chunks: ChunkBuilder;
  /** Whether this run already streamed the answer's text. */
  textStreamed: boolean;
}

/** The text of a message's content: a string, or the text parts of an array of parts. */
function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (p.type === "text" && typeof p.text === "string" ? p.text : "")).join("");
}

/** The answer's content: any text the writer wrote beside its fusion call, then its answer. */
function fullContent(input: FinishInput): string | null {
  const text = `${textOf(input.turn.decision?.assistant.content)}${input.answer.content}`;
  return text || null;
}

/**
 * The last entries of a fusion's stream: any content not yet streamed, the caller's own tool calls,
 * the finish chunk (with usage, the fusion result and its breakdown), the usage chunk when asked for,
 * and the whole completion. Sets the chunks' model to the concrete one the writer answered with.
 */
export function finishEvents(input: FinishInput): PendingEvent[] {
  const { turn, answer, judge, chunks } = input;
  if (answer.model) chunks.model = answer.model;
  const ownCalls = answer.toolCalls.filter((tc) => tc.function.name !== FUSION_TOOL_NAME);
  const content = fullContent(input);
  const finishReason = ownCalls.length
    ? "tool_calls"
    : answer.finishReason === "tool_calls"
      ? "stop"
      : answer.finishReason;
  const writer = stageOf(answer.model || turn.writerModel, "ok", input.writerLatencyMs, input.writerUsage);
  const stages: Stage[] = judge ? [...judge.panel, judge.judge, writer] : [writer];
  const usage = {
    ...addUsage(...stages.map((s) => s.usage)),
    server_tool_use: addServerToolUse(...stages.map(stageTools)),
  };
  // Only the sources the answer cites become annotations; every source stays in `fusion.sources`.
  const annotations = judge && content ? citationsFor(content, judge.urls) : [];
  const fusion = judge
    ? {
        ...judge.result,
        sources: judge.urls,
        breakdown: { panel: judge.panel, judge: judge.judge, writer },
      }
    : undefined;
  // The writer's reasoning, from its deciding call and the call that wrote the answer.
  const reasoning = clientReasoning(reasoningOfMessage(turn.decision?.assistant), {
    ...answer.reasoning,
    contentParts: answer.contentParts,
  });
  const completion = {
    id: turn.fusionId,
    object: "chat.completion",
    created: Math.floor(turn.createdAt / 1000),
    model: chunks.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content,
          ...reasoning,
          ...(ownCalls.length ? { tool_calls: ownCalls } : {}),
          ...(annotations.length ? { annotations } : {}),
        },
        finish_reason: finishReason,
        logprobs: null,
      },
    ],
    usage,
    ...(fusion ? { fusion } : {}),
  };

  const events: PendingEvent[] = [];
  // A non-streaming request's answer is written whole, so its stream can still be read or resumed.
  if (!turn.stream && (reasoning.reasoning || reasoning.reasoning_details)) {
    events.push({
      type: "chunk",
      data: chunks.reasoning(reasoning.reasoning ?? "", reasoning.reasoning_details),
    });
  }
  if (!turn.stream && content) events.push({ type: "chunk", data: chunks.content(content) });
  if (turn.stream && !input.textStreamed && answer.content)
    events.push({ type: "chunk", data: chunks.content(answer.content) });
  if (ownCalls.length) events.push({ type: "chunk", data: chunks.toolCalls(ownCalls) });
  events.push({
    type: "chunk",
    data: chunks.finish(finishReason, annotations.length ? { annotations } : {}, {
      usage,
      ...(fusion ? { fusion } : {}),
    }),
  });
  if (turn.includeUsage) events.push({ type: "chunk", data: chunks.usage(usage) });
  events.push({ type: "final", data: { completion } });
  return events;
}
