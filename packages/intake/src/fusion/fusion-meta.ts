import { keys, type RedisClient, recordOwnedFusion } from "@fusion/runtime";
import type { FusionOptions, ProgressLevel } from "@fusion/wire";
import type { ChainableCommander } from "ioredis";

/**
 * How a fusion's stream shows its progress: as SSE comment lines that clients ignore (the default),
 * as named `fusion.progress` events (`"progress": true`), or as named events that also carry the
 * panelists' and the judge's text (`"progress": "full"`).
 */
export type ProgressMode = "comments" | "events" | "full";

/** How a fusion ended, as the event writer records it in the meta; absent while it runs. */
type Outcome = "completed" | "failed" | "cancelled";

/** What the gateway records of a fusion it accepted, for the endpoints that read, resume or list it. */
export interface FusionMeta {
  /** The digest id of the API key that started it ("open" when the gateway has no keys). */
  owner: string;
  created: number;
  /** The model that writes the answer. */
  model: string;
  stream: boolean;
  progress: ProgressMode;
  /** How long it keeps running, once its client left, for a resume (see `resumeGraceMs`). */
  resumeGraceMs: number;
  /**
   * Answered at once with 202 (`Prefer: respond-async`): it runs whoever reads it, and a reader that
   * leaves never cancels it.
   */
  async: boolean;
  /** The model the request named (e.g. `openrouter/fusion`). */
  requested: string;
  /** The panel's models and the judge. */
  models: string[];
  judge: string;
  /** The start of the request's last user message (`PROMPT_PREVIEW_CHARS`). */
  prompt: string;
  /** Background work (a batch's line), served after interactive fusions; absent when interactive. */
  background?: boolean;
  /** Written when its stream ends (see runtime `EventWriter`): how it ended and what it cost. */
  outcome?: Outcome;
  cost?: number;
}

/** The characters of the last user message a fusion's meta keeps for the listing. */
export const PROMPT_PREVIEW_CHARS = 200;

const modes: Record<string, ProgressMode> = { "0": "comments", "1": "events", full: "full" };
const outcomes = new Set<string>(["completed", "failed", "cancelled"]);

/**
 * Writes a fusion's meta with its entry in its owner's index (the listing), in one round trip on a
 * single Redis (see runtime `recordOwnedFusion`); both live as long as the fusion may be read. `also`
 * queues more writes on the fusion's own keys (same hash tag) into the meta's transaction.
 */
export async function writeMeta(
  redis: RedisClient,
  fusionId: string,
  meta: Omit<FusionMeta, "outcome" | "cost">,
  ttlSeconds: number,
  also: (tx: ChainableCommander) => ChainableCommander = (tx) => tx,
): Promise<void> {
  const key = keys.meta(fusionId);
  const fields = {
    owner: meta.owner,
    created: String(meta.created),
    model: meta.model,
    stream: meta.stream ? "1" : "0",
    progress: meta.progress === "full" ? "full" : meta.progress === "events" ? "1" : "0",
    grace: String(meta.resumeGraceMs),
    async: meta.async ? "1" : "0",
    requested: meta.requested,
    models: JSON.stringify(meta.models),
    judge: meta.judge,
    prompt: meta.prompt.slice(0, PROMPT_PREVIEW_CHARS),
    ...(meta.background ? { background: "1" } : {}),
  };
  await recordOwnedFusion(redis, { owner: meta.owner, fusionId, createdMs: meta.created, ttlSeconds }, (tx) =>
    also(tx.hset(key, fields).expire(key, ttlSeconds)),
  );
}

/** The meta as stored (`HGETALL`); undefined when there is none. */
export function parseMeta(h: Record<string, string>): FusionMeta | undefined {
  if (!h.owner) return undefined;
  const cost = h.cost === undefined || h.cost === "" ? undefined : Number(h.cost);
  return {
    owner: h.owner,
    created: Number(h.created),
    model: h.model ?? "",
    stream: h.stream === "1",
    progress: modes[h.progress ?? "0"] ?? "comments",
    resumeGraceMs: Number(h.grace ?? 0) || 0,
    async: h.async === "1",
    requested: h.requested ?? h.model ?? "",
    models: parseModels(h.models),
    judge: h.judge ?? "",
    prompt: h.prompt ?? "",
    ...(h.background === "1" ? { background: true } : {}),
    ...(h.status && outcomes.has(h.status) ? { outcome: h.status as Outcome } : {}),
    ...(cost !== undefined && Number.isFinite(cost) ? { cost } : {}),
  };
}

function parseModels(text: string | undefined): string[] {
  try {
    const models: unknown = JSON.parse(text ?? "[]");
    return Array.isArray(models) ? models.filter((m): m is string => typeof m === "string") : [];
  } catch {
    return [];
  }
}

export async function readMeta(redis: RedisClient, fusionId: string): Promise<FusionMeta | undefined> {
  return parseMeta(await redis.hgetall(keys.meta(fusionId)));
}

/** The request header that asks for progress as named events ("1", "true", "yes", "on"), or with text ("full"). */
export const PROGRESS_HEADER = "x-fusion-progress";

const headerModes: Record<string, ProgressMode> = {
  1: "events",
  true: "events",
  yes: "events",
  on: "events",
  full: "full",
};
const rank: Record<ProgressMode, number> = { comments: 0, events: 1, full: 2 };

/**
 * How the request asks to see progress: the most that its `fusion` options (`"progress": true` or
 * `"full"`, checked by the request schema) or the progress header ask for. Any other header value
 * asks for nothing.
 */
export function progressMode(
  fusionOptions: FusionOptions | null | undefined,
  header: string | undefined,
): ProgressMode {
  const asked = fusionOptions?.progress;
  const fromBody: ProgressMode = asked === "full" ? "full" : asked === true ? "events" : "comments";
  const fromHeader = headerModes[header?.trim().toLowerCase() ?? ""] ?? "comments";
  return rank[fromHeader] > rank[fromBody] ? fromHeader : fromBody;
}

/** The progress a fusion's stages write: none when nobody streams it, text only when asked for. */
export function progressLevel(stream: boolean, mode: ProgressMode): ProgressLevel {
  if (!stream) return "none";
  return mode === "full" ? "full" : "events";
}
