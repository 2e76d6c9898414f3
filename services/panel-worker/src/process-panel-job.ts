import type { ToolExecutor } from "@fusion/llm-client";
import { runPanelist } from "@fusion/pipeline";
import { innerStagePorts, jobFusionId, loadPanelJob, type WorkerRuntime } from "@fusion/runtime";
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
    // Registered before the load, whose read of the cancel key answers the stage's first check.
    const fusionId = jobFusionId(job.data);
    const cancel = runtime.cancel.register(fusionId, signal);
    try {
      const loaded = await loadPanelJob(runtime.redis, job.data);
      const { data } = loaded;
      const log = runtime.logger.child({
        fusionId: data.fusionId,
        requestId: data.requestId,
        model: data.model,
      });
      return await runPanelist(
        { ...data, deadline: { at: job.timestamp + options.timeoutMs, timeoutMs: options.timeoutMs } },
        innerStagePorts(runtime, tools, data.fusionId, log, cancel.signal, loaded),
      );
    } finally {
      cancel.release();
      // The stage's last progress goes before the job's end lets the next stage start.
      runtime.events.sendNow(fusionId);
    }
  };
}
