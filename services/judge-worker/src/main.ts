import {
  bullmqTelemetry,
  createWorker,
  createWorkerRuntime,
  handleShutdown,
  queueNames,
  recordJudgeResult,
  startTracing,
} from "@fusion/runtime";
import { createWebToolsFromEnv } from "@fusion/web-tools";
import type { StoredJudgeJob } from "@fusion/wire";
import { FlowProducer, type Job } from "bullmq";
import { judgeEnvSchema } from "./env.ts";
import { createJudgeJobProcessor } from "./judge/process-judge-job.ts";
import { endFailedTurn } from "./writer/end-failed-turn.ts";
import { createWriterJobProcessor } from "./writer/process-writer-job.ts";

await startTracing("judge-worker");
const runtime = createWorkerRuntime("judge-worker", judgeEnvSchema);
const { env } = runtime;
const tools = createWebToolsFromEnv(env);
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
for (const judge of judges)
  judge.on("ready", () =>
    runtime.logger.info({ concurrency: env.JUDGE_CONCURRENCY, shards }, "judge worker ready"),
  );
for (const writer of writers) {
  writer.on("ready", () =>
    runtime.logger.info({ concurrency: env.TURN_CONCURRENCY, shards }, "turn worker ready"),
  );
  // A turn that failed for good ends its stream, so that no client waits for it.
  writer.on("failed", (job, err) => {
    if (job) void endFailedTurn(runtime, job, err);
  });
}
handleShutdown(runtime, [...judges, ...writers]);
