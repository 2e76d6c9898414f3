import { forcedDecision, runWriterTurn } from "@fusion/pipeline";
import { isCancelled, loadTurnJob, storedTurn, type WorkerRuntime } from "@fusion/runtime";
import type { StoredTurnJob } from "@fusion/wire";
import { type FlowProducer, type Job, UnrecoverableError, WaitingChildrenError } from "bullmq";
import { awaitFusionAsChildren } from "./await-fusion.ts";
import { emittedSteps } from "./emitted-steps.ts";

/**
 * The turn queue's processor: the writer's turn (`runWriterTurn`), with its state kept in the job
 * and Redis. A suspended turn waits for its children (`WaitingChildrenError`); a failure that must
 * not be retried fails the job for good (`UnrecoverableError`).
 */
export function createWriterJobProcessor(runtime: WorkerRuntime, flows: FlowProducer) {
  return async (job: Job<StoredTurnJob>, token?: string, signal?: AbortSignal): Promise<{ done: true }> => {
    const data = await loadTurnJob(runtime.redis, job.data, forcedDecision);
    const log = runtime.logger.child({ fusionId: data.fusionId, requestId: data.requestId });
    const cancel = runtime.cancel.register(data.fusionId, signal);
    try {
      const outcome = await runWriterTurn(
        data,
        {
          upstream: runtime.upstream,
          events: runtime.events,
          log,
          signal: cancel.signal,
          isCancelled: () => isCancelled(runtime.redis, data.fusionId),
          saveState: async (turn) => {
            await job.updateData(storedTurn(turn));
          },
          ...emittedSteps(runtime, data.fusionId),
          awaitFusion: awaitFusionAsChildren(runtime, flows, job, token, log),
        },
        { retriesLeft: job.attemptsMade + 1 < (job.opts.attempts ?? 1) },
      );
      switch (outcome.status) {
        case "done":
          return { done: true };
        case "suspended":
          throw new WaitingChildrenError();
        case "retry":
          throw outcome.error;
        case "failed":
          throw new UnrecoverableError(outcome.reason);
      }
    } finally {
      cancel.release();
    }
  };
}
