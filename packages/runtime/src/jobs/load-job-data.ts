import {
  type ChatMessage,
  type JudgeJobData,
  type PanelJobData,
  type StoredTurnJob,
  storedJudgeJobSchema,
  storedPanelJobSchema,
  storedTurnJobSchema,
  type TurnJobData,
  type WriterDecisionInput,
  writerDecisionSchema,
} from "@fusion/wire";
import { isCancelled } from "../cancel.ts";
import type { RedisClient } from "../redis/redis.ts";
import { type LoadedConversation, loadConversation } from "./conversation-store.ts";
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

/**
 * A job's data as its stage works on it, and the stage's cancellation check: its first answer is the
 * one read with the conversation (same round trip), later ones ask Redis. Register the job with the
 * `CancelListener` before loading it, so that a cancel after that read still reaches it.
 */
export interface LoadedJob<T> {
  data: T;
  isCancelled: () => Promise<boolean>;
  /** When the fusion's stored conversation expires (epoch ms), when it says so. */
  expiresAt?: number;
}

function loaded<T>(
  redis: RedisClient,
  data: T & { fusionId: string },
  read: LoadedConversation,
): LoadedJob<T> {
  let known: boolean | undefined = read.cancelled;
  const { expiresAt } = read.conversation;
  return {
    data,
    isCancelled: () => {
      if (known === undefined) return isCancelled(redis, data.fusionId);
      const answer = known;
      known = undefined;
      return Promise.resolve(answer);
    },
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

// Each part is checked once: the job's own data against its stored schema here, the conversation by
// `loadConversation`. The job is those two put together, not parsed again as a whole (the
// conversation is most of it, and a stage's schema checks its messages as the conversation's does).

/** A panel job's data with its fusion's conversation loaded: what `runPanelist` works on. */
export async function loadPanelJob(redis: RedisClient, data: unknown): Promise<LoadedJob<PanelJobData>> {
  const stored = parseJobData(storedPanelJobSchema, withProgressLevel(data), "panel");
  const read = await loadConversation(redis, stored.fusionId);
  return loaded(redis, { ...stored, messages: read.conversation.body.messages }, read);
}

/** The judge job's data with its fusion's conversation loaded: what `runJudge` works on. */
export async function loadJudgeJob(redis: RedisClient, data: unknown): Promise<LoadedJob<JudgeJobData>> {
  const stored = parseJobData(storedJudgeJobSchema, withProgressLevel(data), "judge");
  const read = await loadConversation(redis, stored.fusionId);
  return loaded(redis, { ...stored, messages: read.conversation.body.messages }, read);
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
): Promise<LoadedJob<TurnJobData>> {
  const stored = parseJobData(storedTurnJobSchema, withProgressLevel(data), "turn");
  const read = await loadConversation(redis, stored.fusionId);
  const { body, forcedCallId } = read.conversation;
  const decision =
    stored.decision ??
    (forcedCallId === undefined
      ? undefined
      : parseJobData(writerDecisionSchema, forcedDecision(forcedCallId, body.messages), "turn"));
  const turn: TurnJobData = { ...stored, body, ...(decision ? { decision } : {}) };
  return loaded(redis, turn, read);
}

/** The fusion a job's stored data names, to register the job for cancellation before it is loaded. */
export function jobFusionId(data: unknown): string {
  const id = (data as { fusionId?: unknown } | null)?.fusionId;
  return typeof id === "string" ? id : "";
}

/** A turn's state as its job keeps it: without the caller's request, nor a forced fusion's decision (rebuilt on load). */
export function storedTurn(turn: TurnJobData): StoredTurnJob {
  const { body: _body, decision, ...rest } = turn;
  return turn.mode === "forced" || !decision ? rest : { ...rest, decision };
}
