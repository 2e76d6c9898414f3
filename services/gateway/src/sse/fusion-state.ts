import { isCancelled, keys, parseEntry, type RedisClient } from "@fusion/runtime";
import type { StoredEvent } from "@fusion/wire";

/** Where a fusion stands, as Redis tells it: the last entry of its event stream, and whether it was cancelled. */
export interface FusionState {
  last: StoredEvent | undefined;
  cancelled: boolean;
}

export async function readFusionState(redis: RedisClient, fusionId: string): Promise<FusionState> {
  const [last, cancelled] = await Promise.all([
    redis.xrevrange(keys.events(fusionId), "+", "-", "COUNT", 1) as Promise<Array<[string, string[]]>>,
    isCancelled(redis, fusionId),
  ]);
  const entry = last[0];
  return { last: entry ? parseEntry(entry[0], entry[1]) : undefined, cancelled };
}

/** Whether the fusion reached its terminal event: done (`final`), failed (`error`) or cancelled. */
export function isTerminal(state: FusionState): boolean {
  return state.cancelled || state.last?.type === "final" || state.last?.type === "error";
}
