import {
  announceReady,
  createWorker,
  createWorkerRuntime,
  handleShutdown,
  queueNames,
  recordPanelResult,
  recordWebSearchError,
  startTracing,
} from "@fusion/runtime";
import { createWebToolsFromEnv, type WebTools } from "@fusion/web-tools";
import type { StoredPanelJob } from "@fusion/wire";
import type { Job } from "bullmq";
import { panelEnvSchema } from "./env.ts";
import { createPanelJobProcessor } from "./process-panel-job.ts";

await startTracing("panel-worker");
const runtime = createWorkerRuntime("panel-worker", panelEnvSchema);
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
announceReady(runtime.logger, workers, { concurrency: env.PANEL_CONCURRENCY, shards }, "panel worker ready");
handleShutdown(runtime, workers);
