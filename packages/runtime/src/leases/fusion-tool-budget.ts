import type { ToolExecutor, ToolResult } from "@fusion/llm-client";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";

export interface FusionToolBudget {
  /** Tool calls one fusion runs in all (`MAX_TOOL_CALLS_PER_FUSION`). */
  limit: number;
  /** When the fusion's stored conversation expires (epoch ms, see `LoadedJob`); the counter's end. */
  expiresAt?: number;
}

/** The counter's lifetime when the fusion's conversation is already gone (the fusion is over: a late job). */
const ORPHAN_TTL_MS = 60_000;
/** Its lifetime when the conversation did not say when it expires (stored before it did): longer than any fusion. */
const UNKNOWN_TTL_MS = 3_600_000;

/**
 * Counts one call, in one round trip of two commands: `SET counter 0 PX ttl NX` creates the counter
 * with its lifetime on the fusion's first call (and never touches it again), `INCR` counts. No
 * transaction is needed for an exact count: SET NX only ever creates, INCR is atomic, so calls from
 * any number of processes at once each get their own number. The counter lives as long as the
 * fusion's conversation (same hash tag; ORPHAN_TTL_MS when that is already gone), so it never exists without a TTL: the
 * INCR always finds the key its SET made or found.
 */
async function countCall(
  redis: RedisClient,
  fusionId: string,
  expiresAt: number | undefined,
): Promise<number> {
  const counter = keys.toolCalls(fusionId);
  const left = expiresAt === undefined ? UNKNOWN_TTL_MS : Math.ceil(expiresAt - Date.now());
  const ttlMs = left > 0 ? left : ORPHAN_TTL_MS;
  const replies = await redis.pipeline().set(counter, "0", "PX", ttlMs, "NX").incr(counter).exec();
  if (!replies) throw new Error("pipeline aborted");
  for (const [err] of replies) if (err) throw err;
  const count = Number(replies[1]?.[1]);
  if (!Number.isInteger(count) || count < 1) throw new Error("unexpected tool-call count");
  return count;
}

function refused(name: string, error: string): ToolResult {
  return { name, ok: false, content: JSON.stringify({ error }), urls: [] };
}

/**
 * The web tools as one fusion's stage sees them: each call first takes one unit of the fusion's
 * tool-call budget, a Redis counter that every panelist and the judge share, whichever process runs
 * them. A call beyond the budget, or one whose count Redis could not take (fail closed), is answered
 * with a tool error the model reads, and never runs.
 */
export function withFusionToolBudget(
  tools: ToolExecutor,
  redis: RedisClient,
  fusionId: string,
  budget: FusionToolBudget,
): ToolExecutor {
  const wrapped: ToolExecutor = {
    definitions: (names) => tools.definitions(names),
    // The upstream runs these within its call: they never reach `execute`, so no budget applies.
    ...(tools.serverTools ? { serverTools: tools.serverTools.bind(tools) } : {}),
    async execute(name, argumentsJson, signal) {
      let used: number;
      try {
        used = await countCall(redis, fusionId, budget.expiresAt);
      } catch {
        return refused(name, "not run: the tool-call budget could not be checked; try again later");
      }
      if (used > budget.limit) {
        return refused(
          name,
          `not run: this fusion's budget of ${budget.limit} tool calls is used up; answer now`,
        );
      }
      return tools.execute(name, argumentsJson, signal);
    },
  };
  return tools.maxCallsPerTurn === undefined
    ? wrapped
    : { ...wrapped, maxCallsPerTurn: tools.maxCallsPerTurn };
}
