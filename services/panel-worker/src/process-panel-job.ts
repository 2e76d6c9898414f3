import type { ToolExecutor } from "@fusion/llm-client";
import { runPanelist } from "@fusion/pipeline";
import { innerStagePorts, loadPanelJob, type WorkerRuntime } from "@fusion/runtime";
import type { PanelResult, StoredPanelJob } from "@fusion/wire";
import type { Job } from "bullmq";

export interface PanelJobOptions {
  /** The panel stage's deadline, counted from when the panel job was created. */
  timeoutMs: number;
}

/**
 * The panel queue's processor: one panelist (`runPanelist`) per job. A panelist's failure is its
 * result, not the job's; only a crash of the process fails the job itself.
 */
export function createPanelJobProcessor(
  runtime: WorkerRuntime,
  tools: ToolExecutor,
  options: PanelJobOptions,
) {
  return async (job: Job<StoredPanelJob>, _token?: string, signal?: AbortSignal): Promise<PanelResult> => {
    const data = await loadPanelJob(runtime.redis, job.data);
    const log = runtime.logger.child({
      fusionId: data.fusionId,
      requestId: data.requestId,
      model: data.model,
    });
    const cancel = runtime.cancel.register(data.fusionId, signal);
    try {
      return await runPanelist(
        { ...data, deadline: { at: job.timestamp + options.timeoutMs, timeoutMs: options.timeoutMs } },
        innerStagePorts(runtime, tools, data.fusionId, log, cancel.signal),
      );
    } finally {
      cancel.release();
    }
  };
}
