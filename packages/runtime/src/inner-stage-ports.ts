import type { ToolExecutor } from "@fusion/llm-client";
import type { LoadedJob } from "./jobs/load-job-data.ts";
import { withFusionToolBudget } from "./leases/fusion-tool-budget.ts";
import type { Logger } from "./logger.ts";
import type { WorkerRuntime } from "./worker-runtime.ts";

/**
 * What a panel or judge job gives its stage from the worker's runtime: the upstream, the web tools
 * under the fusion's tool-call budget, the fusion's event stream, a log, the cancel signal, the
 * cancellation check (the loaded job's, see `LoadedJob`, whose conversation's expiry is the budget
 * counter's) and the headers of inner calls. (The shape of the pipeline's `StagePorts`.)
 */
export function innerStagePorts(
  runtime: WorkerRuntime,
  tools: ToolExecutor,
  fusionId: string,
  log: Logger,
  signal: AbortSignal,
  loaded: Pick<LoadedJob<unknown>, "isCancelled" | "expiresAt">,
) {
  return {
    upstream: runtime.upstream,
    tools: withFusionToolBudget(tools, runtime.redis, fusionId, {
      limit: runtime.env.MAX_TOOL_CALLS_PER_FUSION,
      ...(loaded.expiresAt === undefined ? {} : { expiresAt: loaded.expiresAt }),
    }),
    events: runtime.events,
    log,
    signal,
    isCancelled: loaded.isCancelled,
    headers: runtime.innerHeaders,
  };
}
