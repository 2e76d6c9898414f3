import { forcedDecision, runWriterTurn } from "@fusion/pipeline";
import { jobFusionId, loadTurnJob, storedTurn, type WorkerRuntime } from "@fusion/runtime";
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
    // Registered before the load, whose read of the cancel key answers the turn's first check.
    const fusionId = jobFusionId(job.data);
    const cancel = runtime.cancel.register(fusionId, signal);
    try {
      const { data, isCancelled } = await loadTurnJob(runtime.redis, job.data, forcedDecision);
      const log = runtime.logger.child({ fusionId: data.fusionId, requestId: data.requestId });
      const outcome = await runWriterTurn(
        data,
        {
          upstream: runtime.upstream,
          events: runtime.events,
          log,
          signal: cancel.signal,
          isCancelled,
          saveState: async (turn) => {
            await job.updateData(storedTurn(turn));
          },
          // BullMQ counts every start of the job (retries, stalls, resumptions): 1 is the first.
          ...emittedSteps(runtime, data.fusionId, job.attemptsStarted <= 1),
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
      runtime.events.sendNow(fusionId);
    }
  };
}
