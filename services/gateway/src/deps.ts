import { BatchStore, batchQueueNames, FileStore, readMeta } from "@fusion/intake";
import type { FusionConfig, Upstream } from "@fusion/llm-client";
import {
  bullmqTelemetry,
  createRedisFromEnv,
  createUpstreamFromEnv,
  EventRelay,
  IdempotencyRecords,
  type KeyLimits,
  type Logger,
  loadProvidersFromEnv,
  OpenStreams,
  type QueueName,
  type QueueShard,
  queueNames,
  queueShards,
  type RedisClient,
  shardOfFusion,
} from "@fusion/runtime";
import { FlowProducer, Queue } from "bullmq";
import type { GatewayEnv } from "./env.ts";
import { FusionSlots } from "./limits/fusion-slots.ts";
import { keyLimitsFromEnv } from "./limits/key-limits-from-env.ts";
import { Readers } from "./sse/readers.ts";

/** What the gateway's routes and middleware work with. */
export interface GatewayDeps {
  env: GatewayEnv;
  /** The providers file FUSION_CONFIG names, read once at start-up; undefined without one. */
  providers: FusionConfig | undefined;
  logger: Logger;
  redis: RedisClient;
  relay: EventRelay;
  flows: FlowProducer;
  /** Every queue shard (`QUEUE_SHARDS`) with its queues: readiness, metrics and the dashboard see them all. */
  shards: GatewayQueueShard[];
  /** The shard of a fusion: its whole flow (turn, judge, panel) lives there (`shardOfFusion`). */
  shardOf(fusionId: string): GatewayQueueShard;
  upstream: Upstream;
  readers: Readers;
  /** The per-key limits (requests per minute, fusions in flight), in Redis. */
  keyLimits: KeyLimits;
  /** The fusion slots this gateway took, each held until its fusion ends. */
  slots: FusionSlots;
  /** Each key's open SSE streams, counted in Redis across gateways (MAX_OPEN_STREAMS_PER_KEY). */
  openStreams: OpenStreams;
  /** The Idempotency-Keys of each API key and the fusions they started, in Redis. */
  idempotency: IdempotencyRecords;
  /** Batch files and batches in Redis (BATCH_* bounds). */
  files: FileStore;
  batches: BatchStore;
  /** The `batch` queue of each queue shard, by shard index (a batch job goes to its batch's shard). */
  batchQueues: Queue[];
  /** The `batch-expiry` queue of each queue shard, by shard index (a batch's expiry job, delayed to its window's end). */
  batchExpiryQueues: Queue[];
}

/**
 * How long an Idempotency-Key's claim lives before its fusion is enqueued: far longer than an enqueue
 * takes; a gateway that dies meanwhile leaves the key free again after it.
 */
const IDEMPOTENCY_PENDING_MS = 30_000;

/** The queues of one fusion queue set. */
export type FusionQueues = Record<QueueName, Queue>;

export interface GatewayQueueShard extends QueueShard {
  queues: FusionQueues;
}

export interface GatewayResources {
  deps: GatewayDeps;
  /** Resolves once every Redis connection is ready (the producer one queues nothing before that). */
  ready(): Promise<void>;
  /** Closes the queues, the upstream and the connections. */
  close(): Promise<void>;
}

/** Everything the gateway app depends on, built from its environment: the one wiring for the process and tests. */
export function createGatewayDeps(
  env: GatewayEnv,
  logger: Logger,
  name = "fusion:gateway",
): GatewayResources {
  // First, before any connection is opened: a wrong file throws ConfigError naming FUSION_CONFIG.
  const providers = loadProvidersFromEnv(env);
  const redis = createRedisFromEnv(env, "producer", name);
  const subscriber = createRedisFromEnv(env, "subscriber", `${name}:sub`);
  const reader = createRedisFromEnv(env, "commands", `${name}:read`);
  const connections = { redis, subscriber, reader };
  for (const [connection, conn] of Object.entries(connections)) {
    conn.on("error", (err) => logger.warn({ err: err.message, connection }, "redis connection error"));
  }

  const queueOpts = { connection: redis, prefix: env.QUEUE_PREFIX, ...bullmqTelemetry() };
  const shards = queueShards(env.QUEUE_PREFIX, env.QUEUE_SHARDS).map((shard) => {
    // The queues' meta records the cap of BullMQ's events stream, which every worker then applies.
    const opts = {
      ...queueOpts,
      prefix: shard.prefix,
      streams: { events: { maxLen: env.QUEUE_EVENTS_MAX_LEN } },
    };
    const queues: FusionQueues = {
      turn: new Queue(queueNames.turn, opts),
      panel: new Queue(queueNames.panel, opts),
      judge: new Queue(queueNames.judge, opts),
    };
    for (const q of Object.values(queues))
      q.on("error", (err: Error) => logger.warn({ err: err.message, shard: shard.index }, "queue error"));
    return { ...shard, queues };
  });
  const batchQueues = shards.map(
    (shard) => new Queue(batchQueueNames.batch, { ...queueOpts, prefix: shard.prefix }),
  );
  const batchExpiryQueues = shards.map(
    (shard) => new Queue(batchQueueNames.expiry, { ...queueOpts, prefix: shard.prefix }),
  );
  for (const q of [...batchQueues, ...batchExpiryQueues])
    q.on("error", (err: Error) => logger.warn({ err: err.message }, "queue error"));
  const allQueues = [...shards.flatMap((s) => Object.values(s.queues)), ...batchQueues, ...batchExpiryQueues];
  // One producer for every shard: each job of a flow names its shard's prefix.
  const flows = new FlowProducer(queueOpts);
  flows.on("error", (err) => logger.warn({ err: err.message }, "flow producer error"));

  // The gateway only proxies: a retry would be the client's to decide.
  const upstream = createUpstreamFromEnv(env, logger, {
    providers,
    redis,
    keyPrefix: env.QUEUE_PREFIX,
    maxRetries: 0,
  });
  const relay = new EventRelay(subscriber, reader);
  const keyLimits = keyLimitsFromEnv({ redis, logger, env });
  const slots = new FusionSlots({ redis, logger, limits: keyLimits, maxHoldMs: keyLimits.maxHoldMs });
  const readers = new Readers({
    redis,
    logger,
    ttlSeconds: Math.ceil(env.FUSION_TIMEOUT_MS / 1000) + env.STREAM_RETENTION_SECONDS,
    streamTtlSeconds: env.STREAM_RETENTION_SECONDS,
    graceKey: `${env.QUEUE_PREFIX}:resume-grace`,
    // A fusion cancelled here may hold a slot of another gateway (one that restarted, say).
    onCancelled: (fusionId) =>
      void readMeta(redis, fusionId)
        .then((meta) => meta && slots.settle(fusionId, meta.owner))
        .catch(() => {}),
  });
  readers.start();
  const openStreams = new OpenStreams(redis, {
    prefix: env.QUEUE_PREFIX,
    max: env.MAX_OPEN_STREAMS_PER_KEY,
    // A stream ends by FUSION_TIMEOUT_MS at the latest; the margin covers the final frames.
    maxHoldMs: env.FUSION_TIMEOUT_MS + 60_000,
    onRenewFailed: (err) => logger.warn({ err: err.message }, "could not renew open-stream leases"),
  });

  return {
    deps: {
      env,
      providers,
      logger,
      redis,
      relay,
      flows,
      shards,
      shardOf: (fusionId) => shardOfFusion(shards, fusionId),
      upstream,
      readers,
      keyLimits,
      slots,
      openStreams,
      idempotency: new IdempotencyRecords(redis, {
        retentionMs: env.IDEMPOTENCY_TTL_MS,
        pendingMs: IDEMPOTENCY_PENDING_MS,
      }),
      files: new FileStore(redis, {
        retentionSeconds: env.BATCH_RETENTION_SECONDS,
        maxFilesPerOwner: env.BATCH_MAX_FILES_PER_KEY,
      }),
      batches: new BatchStore(redis, {
        retentionSeconds: env.BATCH_RETENTION_SECONDS,
        maxBatchesPerOwner: env.BATCH_MAX_BATCHES_PER_KEY,
      }),
      batchQueues,
      batchExpiryQueues,
    },
    async ready() {
      await Promise.all(
        Object.values(connections).map((conn) =>
          conn.status === "ready" ? undefined : new Promise((resolve) => conn.once("ready", resolve)),
        ),
      );
    },
    async close() {
      readers.close();
      slots.close();
      keyLimits.close();
      openStreams.close();
      await Promise.allSettled([flows.close(), ...allQueues.map((q) => q.close()), upstream.close()]);
      for (const conn of Object.values(connections)) conn.disconnect();
    },
  };
}
