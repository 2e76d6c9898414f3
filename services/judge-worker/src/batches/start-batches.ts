import {
  BackgroundPermits,
  BatchLanes,
  BatchStore,
  batchQueueNames,
  FileStore,
  fusionEnqueuer,
  type IntakeShard,
  LinePlaces,
  upstreamIdentity,
} from "@fusion/intake";
import { presetCatalog } from "@fusion/llm-client";
import {
  createWorker,
  loadProvidersFromEnv,
  queueNames,
  queueShards,
  shardOfFusion,
  type WorkerRuntime,
} from "@fusion/runtime";
import { type FlowProducer, Queue, type Worker } from "bullmq";
import type { JudgeWorkerEnv } from "../env.ts";
import { createBatchJobProcessor } from "./process-batch-job.ts";
import { createLineJobProcessor } from "./process-line-job.ts";

/** Batch jobs (split, finalize) one worker runs at once per shard: each is short, lines do the work. */
const BATCH_JOB_CONCURRENCY = 4;
/** A background fusion's permit outlives the fusion's own timeout by this much at most, should its line die. */
const PERMIT_MARGIN_MS = 60_000;

/**
 * The judge worker's part in the Batch API: the `batch` workers (split, finalize) and the `batch-line`
 * workers (BATCH_CONCURRENCY per shard) of every served shard, with what their lines need: the
 * batch stores, the lines' places and the batches' lanes (BATCH_LANES each), the background-fusion
 * permits, and the fusion enqueue the gateway uses.
 */
export function startBatches(
  runtime: WorkerRuntime<JudgeWorkerEnv>,
  flows: FlowProducer,
): { workers: Worker[]; close(): Promise<void> } {
  const { env, redis } = runtime;
  const storage = { retentionSeconds: env.BATCH_RETENTION_SECONDS };
  const batches = new BatchStore(redis, { ...storage, maxBatchesPerOwner: env.BATCH_MAX_BATCHES_PER_KEY });
  const files = new FileStore(redis, { ...storage, maxFilesPerOwner: env.BATCH_MAX_FILES_PER_KEY });
  const places = new LinePlaces(redis);
  const lanes = new BatchLanes(redis);
  const providers = loadProvidersFromEnv(env);
  const presets = presetCatalog(providers);
  const lineQueue = (prefix: string) => queueOf(batchQueueNames.line, prefix);
  const queues = new Map<string, Queue>();
  const queueOf = (name: string, prefix: string) => {
    const key = `${prefix}\u0000${name}`;
    let queue = queues.get(key);
    if (!queue) {
      queue = new Queue(name, { connection: redis, prefix });
      queue.on("error", (err: Error) =>
        runtime.logger.warn({ err: err.message, queue: name }, "queue error"),
      );
      queues.set(key, queue);
    }
    return queue;
  };
  const shards = queueShards(env.QUEUE_PREFIX, env.QUEUE_SHARDS);
  const enqueue = fusionEnqueuer({
    env,
    logger: runtime.logger,
    redis,
    flows,
    shardOf: (fusionId): IntakeShard => {
      const { prefix } = shardOfFusion(shards, fusionId);
      return { prefix, queues: { turn: queueOf(queueNames.turn, prefix) } };
    },
  });
  const lineProcessor = createLineJobProcessor({
    runtime,
    batches,
    files,
    places,
    lanes,
    permits: new BackgroundPermits(redis, {
      max: env.BATCH_MAX_IN_FLIGHT_PER_KEY,
      holdMs: env.FUSION_TIMEOUT_MS + PERMIT_MARGIN_MS,
    }),
    enqueue,
    presets,
    identity: upstreamIdentity(env, providers),
    shards,
    lineQueue,
  });
  const batchProcessor = createBatchJobProcessor({
    runtime,
    batches,
    files,
    places,
    lanes,
    maxLanes: env.BATCH_LANES,
    presets,
    lineQueue,
  });
  const workers = [
    ...createWorker(runtime, batchQueueNames.batch, batchProcessor, { concurrency: BATCH_JOB_CONCURRENCY }),
    ...createWorker(runtime, batchQueueNames.line, lineProcessor, { concurrency: env.BATCH_CONCURRENCY }),
  ];
  return {
    workers: workers as Worker[],
    close: async () => {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
    },
  };
}
