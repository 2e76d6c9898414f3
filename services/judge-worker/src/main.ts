import {
  bullmqTelemetry,
  announceReady,
  createWorker,
  createWorkerRuntime,
  handleShutdown,
  queueNames,
  recordJudgeResult,
  recordWebSearchError,
  startTracing,
} from "@fusion/runtime";
import { createWebToolsFromEnv, type WebTools } from "@fusion/web-tools";
import type { StoredJudgeJob } from "@fusion/wire";
import { FlowProducer, type Job } from "bullmq";
import { startBatches } from "./batches/start-batches.ts";
import { judgeEnvSchema } from "./env.ts";
import { createJudgeJobProcessor } from "./judge/process-judge-job.ts";
import { endFailedTurn } from "./writer/end-failed-turn.ts";
import { createWriterJobProcessor } from "./writer/process-writer-job.ts";
import { startWebhooks } from "./webhooks/start-webhooks.ts";

await startTracing("judge-worker");
const runtime = createWorkerRuntime("judge-worker", judgeEnvSchema);
const { env } = runtime;
let tools: WebTools;
try {
  // Every failed search is counted by provider and reason (fusion_web_search_errors_total).
  tools = createWebToolsFromEnv(env, {
    onSearchError: (provider, reason) => recordWebSearchError(provider, reason),
  });
} catch (err) {
  // A web search setting that cannot work (the message names the variables) stops the start.
  runtime.logger.fatal(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
const flows = new FlowProducer({ connection: runtime.redis, prefix: env.QUEUE_PREFIX, ...bullmqTelemetry() });
flows.on("error", (err) => runtime.logger.warn({ err: err.message }, "flow producer error"));

const judgeProcessor = createJudgeJobProcessor(runtime, tools, {
  structuredOutput: env.JUDGE_STRUCTURED_OUTPUT,
  timeoutMs: env.JUDGE_TIMEOUT_MS,
});
// One BullMQ Worker per queue and shard served (QUEUE_SHARDS_SERVED, or every one), each with its concurrency.
const judges = createWorker(
  runtime,
  queueNames.judge,
  async (job: Job<StoredJudgeJob>, token?: string, signal?: AbortSignal) =>
    recordJudgeResult(await judgeProcessor(job, token, signal)),
  { concurrency: env.JUDGE_CONCURRENCY },
);
// The writer: the calling model's turn (decide, await the fusion, write the answer).
const writers = createWorker(runtime, queueNames.turn, createWriterJobProcessor(runtime, flows), {
  concurrency: env.TURN_CONCURRENCY,
});
const shards = runtime.shards.map((s) => s.index);
announceReady(runtime.logger, judges, { concurrency: env.JUDGE_CONCURRENCY, shards }, "judge worker ready");
announceReady(runtime.logger, writers, { concurrency: env.TURN_CONCURRENCY, shards }, "turn worker ready");
for (const writer of writers) {
  // A turn that failed for good ends its stream, so that no client waits for it.
  writer.on("failed", (job, err) => {
    if (job) void endFailedTurn(runtime, job, err);
  });
}
// Webhooks: the outbox's dispatcher and the delivery workers.
const webhooks = startWebhooks(runtime);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => void webhooks.dispatcher.stop());
// Batches: their batch jobs and line jobs (plain requests proxied, fusions started with the gateway's enqueue).
const batches = startBatches(runtime, flows);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => void batches.close());
handleShutdown(runtime, [...judges, ...writers, ...webhooks.workers, ...batches.workers]);
