import {
  type AssistantTurn,
  addServerToolUse,
  addUsage,
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

/** The answer's content: any text the writer wrote beside its fusion call, then its answer. */
function fullContent(input: FinishInput): string | null {
  const before = input.turn.decision?.assistant.content;
  const text = `${typeof before === "string" ? before : ""}${input.answer.content}`;
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
  const annotations = judge && content ? citationsFor(content, judge.urls) : [];
  const fusion = judge
    ? { ...judge.result, breakdown: { panel: judge.panel, judge: judge.judge, writer } }
    : undefined;
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
