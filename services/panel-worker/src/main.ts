import {
  createWorker,
  createWorkerRuntime,
  handleShutdown,
  queueNames,
  recordPanelResult,
  startTracing,
} from "@fusion/runtime";
import { createWebToolsFromEnv } from "@fusion/web-tools";
import type { StoredPanelJob } from "@fusion/wire";
import type { Job } from "bullmq";
import { panelEnvSchema } from "./env.ts";
import { createPanelJobProcessor } from "./process-panel-job.ts";

await startTracing("panel-worker");
const runtime = createWorkerRuntime("panel-worker", panelEnvSchema);
const { env } = runtime;
const tools = createWebToolsFromEnv(env);
const panel = createPanelJobProcessor(runtime, tools, { timeoutMs: env.PANEL_TIMEOUT_MS });
// One BullMQ Worker per queue shard served (QUEUE_SHARDS_SERVED, or every one), each with PANEL_CONCURRENCY.
const workers = createWorker(
  runtime,
  queueNames.panel,
  async (job: Job<StoredPanelJob>, token?: string, signal?: AbortSignal) =>
    recordPanelResult(await panel(job, token, signal)),
  { concurrency: env.PANEL_CONCURRENCY },
);
const shards = runtime.shards.map((s) => s.index);
for (const worker of workers)
  worker.on("ready", () =>
    runtime.logger.info({ concurrency: env.PANEL_CONCURRENCY, shards }, "panel worker ready"),
  );
handleShutdown(runtime, workers);
