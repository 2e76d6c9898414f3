import {
  type ChatMessage,
  type JudgeJobData,
  judgeJobSchema,
  type PanelJobData,
  panelJobSchema,
  type StoredTurnJob,
  storedJudgeJobSchema,
  storedPanelJobSchema,
  storedTurnJobSchema,
  type TurnJobData,
  turnJobSchema,
  type WriterDecisionInput,
} from "@fusion/wire";
import type { RedisClient } from "../redis/redis.ts";
import { loadConversation } from "./conversation-store.ts";
import { parseJobData } from "./job-catalog.ts";

/**
 * A job's data with its progress level: jobs stored before levels existed say `emitProgress: true`
 * (progress events: `events`) or false (`none`); their data is read as if it said so.
 */
export function withProgressLevel(data: unknown): unknown {
  if (typeof data !== "object" || data === null || "progress" in data || !("emitProgress" in data)) {
    return data;
  }
  const { emitProgress, ...rest } = data as { emitProgress: unknown };
  return { ...rest, progress: emitProgress === true ? "events" : "none" };
}

/** A panel job's data with its fusion's conversation loaded: what `runPanelist` works on. */
export async function loadPanelJob(redis: RedisClient, data: unknown): Promise<PanelJobData> {
  const stored = parseJobData(storedPanelJobSchema, withProgressLevel(data), "panel");
  const { body } = await loadConversation(redis, stored.fusionId);
  return parseJobData(panelJobSchema, { ...stored, messages: body.messages }, "panel");
}

/** The judge job's data with its fusion's conversation loaded: what `runJudge` works on. */
export async function loadJudgeJob(redis: RedisClient, data: unknown): Promise<JudgeJobData> {
  const stored = parseJobData(storedJudgeJobSchema, withProgressLevel(data), "judge");
  const { body } = await loadConversation(redis, stored.fusionId);
  return parseJobData(judgeJobSchema, { ...stored, messages: body.messages }, "judge");
}

/** Rebuilds a forced fusion's decision from its fusion call's id and the conversation (pipeline `forcedDecision`). */
export type ForcedDecisionBuilder = (fusionCallId: string, messages: ChatMessage[]) => WriterDecisionInput;

/**
 * The turn job's data with the caller's request loaded, and a forced fusion's decision rebuilt from
 * the call id stored with it: what `runWriterTurn` works on.
 */
export async function loadTurnJob(
  redis: RedisClient,
  data: unknown,
  forcedDecision: ForcedDecisionBuilder,
): Promise<TurnJobData> {
  const stored = parseJobData(storedTurnJobSchema, withProgressLevel(data), "turn");
  const conversation = await loadConversation(redis, stored.fusionId);
  const { body, forcedCallId } = conversation;
  const decision =
    stored.decision ?? (forcedCallId === undefined ? undefined : forcedDecision(forcedCallId, body.messages));
  return parseJobData(turnJobSchema, { ...stored, body, ...(decision ? { decision } : {}) }, "turn");
}

/** A turn's state as its job keeps it: without the caller's request, nor a forced fusion's decision (rebuilt on load). */
export function storedTurn(turn: TurnJobData): StoredTurnJob {
  const { body: _body, decision, ...rest } = turn;
  return turn.mode === "forced" || !decision ? rest : { ...rest, decision };
}
