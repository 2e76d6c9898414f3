import { keys, type WorkerRuntime } from "@fusion/runtime";
import type { PendingEvent, TurnStep } from "@fusion/wire";

/**
 * Which steps of a fusion's turn have sent output to the client, in a Redis hash that outlives the
 * worker: a retry of a step that had (its worker died mid-answer) must end the stream with an error.
 * The record is written by the script that appends the step's first output (`appendStepOutput`), so
 * it exists exactly when that output reached the stream. On the turn job's first start no earlier run
 * can have sent anything, so the check does not ask Redis.
 */
export function emittedSteps(
  runtime: Pick<WorkerRuntime, "redis" | "events">,
  fusionId: string,
  firstStart: boolean,
) {
  const key = keys.emitted(fusionId);
  return {
    textEmitted: async (step: TurnStep): Promise<boolean> =>
      !firstStart && (await runtime.redis.hexists(key, step)) === 1,
    appendFirstOutput: (step: TurnStep, ...events: PendingEvent[]): Promise<string> =>
      runtime.events.appendStepOutput(fusionId, step, ...events),
  };
}
