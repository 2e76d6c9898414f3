import { keys, type WorkerRuntime } from "@fusion/runtime";
import type { TurnStep } from "@fusion/wire";

/**
 * Which steps of a fusion's turn have sent text to the client, in a Redis hash that outlives the
 * worker: a retry of a step that had (its worker died mid-answer) must end the stream with an error.
 */
export function emittedSteps(runtime: WorkerRuntime, fusionId: string) {
  const key = keys.emitted(fusionId);
  return {
    textEmitted: async (step: TurnStep): Promise<boolean> => (await runtime.redis.hexists(key, step)) === 1,
    markTextEmitted: async (step: TurnStep): Promise<void> => {
      await runtime.redis
        .multi()
        .hset(key, step, "1")
        .expire(key, runtime.env.STREAM_RETENTION_SECONDS)
        .exec();
    },
  };
}
