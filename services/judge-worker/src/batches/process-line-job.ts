import {
  type BackgroundPermits,
  type BatchLanes,
  type BatchStore,
  batchJobIds,
  batchQueueNames,
  classify,
  type EnqueueFusion,
  type FileStore,
  failedLine,
  lineFusionId,
  lineJobSchema,
  lineRequestId,
  type LineJobData,
  type LinePlaces,
  type ResultKind,
  type ResultLine,
  unrunLine,
  type UpstreamIdentity,
} from "@fusion/intake";
import { parseJobData, type QueueShard, type WorkerRuntime } from "@fusion/runtime";
import type { PresetCatalog } from "@fusion/wire";
import { DelayedError, type Job, type Queue, UnrecoverableError, WaitingChildrenError } from "bullmq";
import { fusionResult } from "./fusion-result.ts";
import { parseLine } from "./line-body.ts";
import { addHandedOnJob, type BatchParent } from "./line-jobs.ts";
import { permitWaitMs, takePermit } from "./permit-wait.ts";
import { retryableCall, runPlainLine } from "./run-plain-line.ts";

export interface LineJobContext {
  runtime: WorkerRuntime;
  batches: BatchStore;
  files: FileStore;
  places: LinePlaces;
  lanes: BatchLanes;
  permits: BackgroundPermits;
  enqueue: EnqueueFusion;
  presets: PresetCatalog;
  identity: UpstreamIdentity;
  /** Every queue shard of the deployment (a line's fusion id is chosen in its batch's shard). */
  shards: QueueShard[];
  /** The `batch-line` queue under a queue shard's prefix (where a lane's next line job is added). */
  lineQueue(prefix: string): Queue;
}

/**
 * The `batch-line` queue's processor: one request line of a batch, on one of the batch's lanes. It runs
 * only while its batch runs (not cancelled, within its window) and is not answered
 * (`BatchStore.startLine`). A plain request is proxied; a fusion first takes its key's background
 * permit (none free: the lane waits, delayed 1 s doubling to 30 s, before the line's body is even
 * read), then is started (its id derived from the batch and line, with its turn job as this job's
 * child), the job waits for it as BullMQ children (no worker slot held), and on its return reads the
 * fusion's answer. The answer is recorded once per line (`BatchStore.answer`), whatever reruns. Then,
 * before the job completes, the line hands its lane on (`BatchLanes.handOver`) and adds the next
 * line's job: a line run again (answered or not) hands on to the same line, so lanes are never lost
 * or doubled. A job that fails for good answers its line `batch_failed` and hands its lane on too.
 */
export function createLineJobProcessor(context: LineJobContext) {
  const { runtime } = context;
  return async (job: Job<LineJobData>, token?: string, signal?: AbortSignal): Promise<string> => {
    const data = parseJobData(lineJobSchema, job.data, "batch line");
    try {
      const outcome = await runLine(context, job, data, token, signal);
      await handLaneOn(context, job, data);
      return outcome;
    } catch (err) {
      if (err instanceof DelayedError || err instanceof WaitingChildrenError) throw err;
      const lastAttempt =
        err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt) {
        // Best effort: should Redis fail here too, the batch job starts lost lanes again at its end.
        await giveUpLine(context, job, data).catch((e: Error) =>
          runtime.logger.warn(
            { err: e.message, batchId: data.batchId, line: data.index },
            "a failed batch line could not hand its lane on",
          ),
        );
      }
      throw err;
    }
  };
}

/** The line's work; returns what became of it (its answer's kind, or why it did not run). */
async function runLine(
  context: LineJobContext,
  job: Job<LineJobData>,
  data: LineJobData,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { runtime, batches } = context;
  const { batchId, index, owner } = data;
  const requestId = lineRequestId(batchId, index);
  const fusionId = lineFusionId(context.shards, batchId, index);
  const record = async ({ kind, line }: { kind: ResultKind; line: ResultLine }) => {
    await batches.answer(batchId, index, kind, line);
    return kind;
  };

  if (data.step === "started") {
    if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    const customId = (await context.places.read(batchId, index))?.customId ?? "";
    const answer = await fusionResult(runtime.redis, fusionId, { requestId, customId });
    await context.permits.release(owner, fusionId);
    return record(answer);
  }

  const state = await batches.startLine(batchId, index);
  if (state !== "run") return state;
  const place = await context.places.read(batchId, index);
  if (place === undefined)
    return record(failedLine(requestId, "", 500, "the line's place in the batch's input file is lost"));
  const { customId } = place;
  // Cheap first: a fusion line that must wait for a permit has not read or parsed its body.
  if (place.fusion && !(await takePermit(context.permits, owner, fusionId)))
    return waitForPermit(job, data, token);
  const text = await context.files.range(data.fileId, place.start, place.end);
  const line = text === undefined ? undefined : parseLine(text, context.presets);
  const plan = line && classify(line.request, 0, context.presets);
  if (place.fusion && plan?.kind !== "fusion") await context.permits.release(owner, fusionId);
  if (text === undefined)
    return record(
      failedLine(requestId, customId, 404, "the batch's input file is gone (expired or deleted)"),
    );
  if (line === undefined || plan === undefined)
    return record(failedLine(requestId, customId, 400, "the line's body is no longer a valid request"));
  const { request: parsed, json } = line;

  if (plan.kind === "proxy") {
    const model = typeof plan.body?.model === "string" ? plan.body.model : parsed.model;
    const body = plan.body ?? json;
    try {
      return record(
        await runPlainLine(runtime.upstream, context.identity, { requestId, customId, model, body }, signal),
      );
    } catch (err) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (retryableCall(err) && !lastAttempt) throw err;
      const status = retryableCall(err) && err.kind === "timeout" ? 408 : 502;
      return record(
        failedLine(requestId, customId, status, `upstream request failed: ${(err as Error).message}`),
      );
    }
  }

  // A line split as plain that is a fusion now (the presets changed) takes its permit here.
  if (!place.fusion && !(await takePermit(context.permits, owner, fusionId)))
    return waitForPermit(job, data, token);
  await context.enqueue({
    fusionId,
    requestId,
    owner,
    plan,
    requestedModel: parsed.model,
    stream: false,
    includeUsage: false,
    progress: "comments",
    resumeGraceMs: 0,
    async: true,
    background: true,
    createdAt: Date.now(),
    parent: { id: job.id ?? "", queue: job.queueQualifiedName },
  });
  await job.updateData({ ...data, step: "started" });
  if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
  // Its turn job ended already (a fusion answered at once).
  const answer = await fusionResult(runtime.redis, fusionId, { requestId, customId });
  await context.permits.release(owner, fusionId);
  return record(answer);
}

/** No background permit free for the line's key: its lane waits longer each time (see `permitWaitMs`). */
async function waitForPermit(
  job: Job<LineJobData>,
  data: LineJobData,
  token: string | undefined,
): Promise<never> {
  await job.updateData({ ...data, permitWaits: data.permitWaits + 1 });
  await job.moveToDelayed(Date.now() + permitWaitMs(data.permitWaits), token);
  throw new DelayedError();
}

/** Hands the line's lane on and adds the next line's job (see `BatchLanes.handOver`). */
async function handLaneOn(context: LineJobContext, job: Job<LineJobData>, data: LineJobData): Promise<void> {
  const next = await context.lanes.handOver(data.batchId, data.index);
  if (next.lines.length === 0) return;
  await addHandedOnJob(context.lineQueue(job.prefix), batchParent(job, data), data, next);
}

/**
 * A line whose job fails for good: answered `batch_failed` (unless answered), its lane handed on. A
 * permit it took is not freed: its fusion may have started and still run (the hold ends on its own).
 */
async function giveUpLine(context: LineJobContext, job: Job<LineJobData>, data: LineJobData): Promise<void> {
  const { batchId, index } = data;
  const customId = (await context.places.read(batchId, index))?.customId ?? "";
  const line = unrunLine(lineRequestId(batchId, index), customId, "batch_failed");
  await context.batches.answer(batchId, index, "error", line);
  await handLaneOn(context, job, data);
}

/** The batch job a line job belongs to: its own parent, the batch job of its queue shard. */
function batchParent(job: Job<LineJobData>, data: LineJobData): BatchParent {
  const { parent } = job;
  if (parent?.id) return { id: parent.id, queue: parent.queueKey };
  return { id: batchJobIds.batch(data.batchId), queue: `${job.prefix}:${batchQueueNames.batch}` };
}
