import type { ToolExecutor, ToolResult } from "@fusion/llm-client";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";

export interface FusionToolBudget {
  /** Tool calls one fusion runs in all (`MAX_TOOL_CALLS_PER_FUSION`). */
  limit: number;
}

/** The counter's lifetime when its fusion's conversation is already gone (the fusion is over). */
const ORPHAN_TTL_MS = 60_000;

/**
 * Counts one call; the counter lives as long as the fusion's conversation (same hash tag, so one
 * MULTI on a Cluster too), and gets that lifetime on its first call or whenever it has none.
 */
async function countCall(redis: RedisClient, fusionId: string): Promise<number> {
  const counter = keys.toolCalls(fusionId);
  const replies = await redis.multi().incr(counter).pttl(counter).pttl(keys.conversation(fusionId)).exec();
  if (!replies) throw new Error("transaction aborted");
  for (const [err] of replies) if (err) throw err;
  const [count, counterTtl, fusionTtl] = replies.map(([, value]) => Number(value));
  if (counterTtl === -1) {
    await redis.pexpire(counter, fusionTtl !== undefined && fusionTtl > 0 ? fusionTtl : ORPHAN_TTL_MS);
  }
  return count ?? 0;
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
    async execute(name, argumentsJson, signal) {
      let used: number;
      try {
        used = await countCall(redis, fusionId);
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
