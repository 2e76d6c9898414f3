import { distinctQuestion, type FusionWait, lastUserText, type StageLogger } from "@fusion/pipeline";
import { buildJudgeFlow, type WorkerRuntime } from "@fusion/runtime";
import type { TurnJobData } from "@fusion/wire";
import type { FlowProducer, Job } from "bullmq";
import { readJudge } from "./read-judge.ts";

async function hasNoChildren(job: Job): Promise<boolean> {
  const c = await job.getDependenciesCount();
  return (c.processed ?? 0) + (c.unprocessed ?? 0) + (c.ignored ?? 0) + (c.failed ?? 0) === 0;
}

/**
 * Waiting for the fusion with BullMQ's waiting-children pattern. An offered fusion adds its judge
 * flow below the turn job (and on a retry adds it again if the first attempt stopped before it
 * could: job ids make it idempotent) in the turn job's queue shard, then the job waits for its children, holding no worker slot
 * meanwhile: the run is suspended and BullMQ runs the job again once they finish. A forced fusion's
 * flow was added with the turn job. Then the judge's result is read from the children.
 */
export function awaitFusionAsChildren(
  runtime: WorkerRuntime,
  flows: FlowProducer,
  job: Job,
  token: string | undefined,
  log: StageLogger,
): (turn: TurnJobData) => Promise<FusionWait> {
  return async (turn) => {
    if (turn.mode === "offered" && token) {
      if (await hasNoChildren(job)) {
        const flow = buildJudgeFlow({
          fusionId: turn.fusionId,
          requestId: turn.requestId,
          question: distinctQuestion(
            turn.body.messages,
            turn.decision?.question ?? lastUserText(turn.body.messages),
          ),
          settings: turn.settings,
          progress: turn.progress,
          // The turn job's own queue shard: a fusion's whole flow lives in one shard.
          prefix: job.prefix,
          retention: runtime.retention,
          // A background fusion's panel and judge run at its priority (interactive work first).
          background: turn.background,
        });
        await flows.add({
          ...flow,
          opts: { ...flow.opts, parent: { id: job.id ?? turn.fusionId, queue: job.queueQualifiedName } },
        });
        log.info({ panel: turn.settings.analysisModels.length }, "model called fusion: panel started");
      }
      if (await job.moveToWaitingChildren(token)) return { status: "suspended" };
    }
    return { status: "judged", judge: await readJudge(job, turn.fusionId, turn.settings.judgeModel) };
  };
}
