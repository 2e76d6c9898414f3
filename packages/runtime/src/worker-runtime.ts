import type { FusionConfig, Upstream } from "@fusion/llm-client";
import { type Processor, Worker, type WorkerOptions } from "bullmq";
import type { z } from "zod";
import { CancelListener } from "./cancel.ts";
import { ConfigError, commonEnvSchema, invalidConfiguration, parseEnv } from "./env/common-env.ts";
import { loadProvidersFromEnv } from "./env/providers-from-env.ts";
import { workerEnvSchema } from "./env/worker-env.ts";
import { EventWriter } from "./events/event-writer.ts";
import { queueNames, type RetentionOptions } from "./jobs/job-catalog.ts";
import { traceProcessor } from "./jobs/job-tracing.ts";
import { watchLoopDelay } from "./jobs/loop-delay-watch.ts";
import { splitWorkerSlots } from "./jobs/worker-loops.ts";
import { type QueueShard, queueShards, servedShards } from "./jobs/queue-shards.ts";
import { createLogger, type Logger } from "./logger.ts";
import { initMetrics } from "./metrics/fusion-metrics.ts";
import { startMetricsServer } from "./metrics/metrics-server.ts";
import { instrumentProcessor, observeFusionFinished } from "./metrics/recorders.ts";
import { createRedisFromEnv, type RedisClient } from "./redis/redis.ts";
import { bullmqTelemetry, shutdownTracing } from "./tracing/tracing.ts";
import { createUpstreamFromEnv } from "./upstream-from-env.ts";

export const workerRuntimeEnvSchema = commonEnvSchema.extend(workerEnvSchema.shape);
export type WorkerRuntimeEnv = z.infer<typeof workerRuntimeEnvSchema>;

export interface WorkerRuntime<E extends WorkerRuntimeEnv = WorkerRuntimeEnv> {
  service: string;
  env: E;
  logger: Logger;
  /** Commands (job bookkeeping, cancellation checks, event appends). */
  redis: RedisClient;
  /** The connection BullMQ workers share for their blocking commands. */
  workerConnection: RedisClient;
  cancel: CancelListener;
  events: EventWriter;
  /** One client of UPSTREAM_BASE_URL, or the router over the providers of FUSION_CONFIG. */
  upstream: Upstream;
  retention: RetentionOptions;
  /** Headers of every call a panelist or judge makes upstream. */
  innerHeaders: Record<string, string>;
  /** Every worker made with `createWorker`; `/readyz` of the metrics server checks them. */
  workers: Worker[];
  /** The queue shards this process takes jobs from (`QUEUE_SHARDS_SERVED`, or every one). */
  shards: QueueShard[];
}

/**
 * Parses the environment and reads the providers file once, opens the connections, and exits with a
 * clear message when config is wrong.
 */
export function createWorkerRuntime<S extends z.ZodObject>(
  service: string,
  extra: S,
): WorkerRuntime<WorkerRuntimeEnv & z.infer<S>> {
  const logger = createLogger(service);
  const schema = workerRuntimeEnvSchema.extend(extra.shape);
  let env: WorkerRuntimeEnv & z.infer<S>;
  let providers: FusionConfig | undefined;
  let shards: QueueShard[];
  try {
    env = parseEnv(schema) as WorkerRuntimeEnv & z.infer<S>;
    shards = shardsServed(env);
    providers = loadProvidersFromEnv(env);
  } catch (err) {
    logger.fatal(err instanceof ConfigError ? err.message : String(err));
    process.exit(1);
  }
  const redis = createRedisFromEnv(env, "commands", `fusion:${service}`);
  const workerConnection = createRedisFromEnv(env, "worker", `fusion:${service}:worker`);
  const subscriber = createRedisFromEnv(env, "subscriber", `fusion:${service}:cancel`);
  for (const [name, conn] of Object.entries({ redis, workerConnection, subscriber })) {
    conn.on("error", (err) => logger.warn({ err: err.message, connection: name }, "redis connection error"));
  }
  const cancel = new CancelListener(subscriber);
  const workers: Worker[] = [];
  initMetrics(service);
  void startMetricsServer({
    port: env.METRICS_PORT,
    host: env.METRICS_HOST,
    token: env.METRICS_TOKEN,
    logger,
    ready: () => workerConnection.status === "ready" && workers.every((w) => w.isRunning()),
  });
  cancel.start().catch((err) => logger.error({ err }, "cannot subscribe to cancellations"));
  watchLoopDelay(logger, { lockMs: env.WORKER_LOCK_MS });
  const upstream = createUpstreamFromEnv(env, logger, { providers, redis, keyPrefix: env.QUEUE_PREFIX });
  return {
    service,
    env,
    logger,
    redis,
    workerConnection,
    cancel,
    events: new EventWriter(redis, env.STREAM_RETENTION_SECONDS),
    upstream,
    retention: {
      completedAgeSeconds: env.JOB_RETENTION_SECONDS,
      failedAgeSeconds: env.JOB_RETENTION_SECONDS * 24,
    },
    innerHeaders: { "x-openrouter-fusion-depth": "1" },
    workers,
    shards,
  };
}

/** The shards `QUEUE_SHARDS_SERVED` names among the `QUEUE_SHARDS` of `QUEUE_PREFIX`; a ConfigError for one that does not exist. */
export function shardsServed(
  env: Pick<WorkerRuntimeEnv, "QUEUE_PREFIX" | "QUEUE_SHARDS" | "QUEUE_SHARDS_SERVED">,
): QueueShard[] {
  try {
    return servedShards(queueShards(env.QUEUE_PREFIX, env.QUEUE_SHARDS), env.QUEUE_SHARDS_SERVED);
  } catch (err) {
    throw invalidConfiguration([["QUEUE_SHARDS_SERVED", (err as Error).message]]);
  }
}

/**
 * The workers of one queue: per shard this process serves, the whole `concurrency` (it is per shard:
 * a process serving k shards runs up to k × concurrency jobs of the queue at once), held by one
 * BullMQ Worker, or by several of at most `WORKER_SLOTS_PER_LOOP` slots each (see `splitWorkerSlots`).
 * Each has its own blocking connection.
 */
export function createWorker<D, R>(
  runtime: WorkerRuntime,
  queueName: string,
  processor: Processor<D, R>,
  options: { concurrency: number } & Partial<WorkerOptions>,
): Worker<D, R>[] {
  const traced = instrumentProcessor(queueName, traceProcessor(queueName, processor));
  const loops = splitWorkerSlots(options.concurrency, runtime.env.WORKER_SLOTS_PER_LOOP);
  return runtime.shards.flatMap((shard) =>
    loops.map((concurrency) =>
      createShardWorker(runtime, queueName, shard, traced, { ...options, concurrency }),
    ),
  );
}

function createShardWorker<D, R>(
  runtime: WorkerRuntime,
  queueName: string,
  shard: QueueShard,
  processor: Processor<D, R>,
  options: { concurrency: number } & Partial<WorkerOptions>,
): Worker<D, R> {
  const worker = new Worker<D, R>(queueName, processor, {
    connection: runtime.workerConnection,
    prefix: shard.prefix,
    lockDuration: runtime.env.WORKER_LOCK_MS,
    stalledInterval: runtime.env.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: runtime.env.WORKER_MAX_STALLED_COUNT,
    ...bullmqTelemetry(),
    ...options,
  });
  runtime.workers.push(worker as Worker);
  if (queueName === queueNames.turn) {
    worker.on("completed", (job) =>
      observeFusionFinished(job.data, job.finishedOn ?? Date.now(), "completed"),
    );
    // Only a job's last failure (no retry left) has finishedOn.
    worker.on("failed", (job) => {
      if (job?.finishedOn) observeFusionFinished(job.data, job.finishedOn, "failed");
    });
  }
  const shardField = runtime.shards.length > 1 || shard.index > 0 ? { shard: shard.index } : {};
  worker.on("error", (err) => runtime.logger.error({ err, queue: queueName, ...shardField }, "worker error"));
  worker.on("failed", (job, err) =>
    runtime.logger.warn(
      {
        queue: queueName,
        ...shardField,
        jobId: job?.id,
        fusionId: (job?.data as { fusionId?: string })?.fusionId,
        err: err.message,
      },
      "job failed",
    ),
  );
  return worker;
}

/** Closes workers gracefully on SIGTERM/SIGINT: active jobs finish within the grace period. */
export function handleShutdown(runtime: WorkerRuntime, workers: Worker[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info({ signal }, "shutting down: finishing active jobs");
    const force = setTimeout(() => {
      runtime.logger.warn("grace period over: leaving unfinished jobs to other workers");
      process.exit(1);
    }, runtime.env.WORKER_SHUTDOWN_GRACE_MS);
    force.unref();
    await Promise.allSettled(workers.map((w) => w.close()));
    await runtime.upstream.close().catch(() => {});
    await shutdownTracing();
    runtime.cancel.close();
    runtime.redis.disconnect();
    runtime.workerConnection.disconnect();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
