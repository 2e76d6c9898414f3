import type { ToolExecutor } from "@fusion/llm-client";
import { runJudge } from "@fusion/pipeline";
import { innerStagePorts, jobFusionId, loadJudgeJob, metrics, type WorkerRuntime } from "@fusion/runtime";
import type { JudgeResult, StoredJudgeJob } from "@fusion/wire";
import type { Job } from "bullmq";
import { readPanelResults } from "./panel-results.ts";

export interface JudgeJobOptions {
  /** Ask for `response_format: json_schema` (structured output) where the upstream supports it. */
  structuredOutput: boolean;
  /** The judge's deadline, from when it starts. */
  timeoutMs: number;
}

/** The judge queue's processor: reads the panel's results from the job's children and runs `runJudge`. */
export function createJudgeJobProcessor(
  runtime: WorkerRuntime,
  tools: ToolExecutor,
  options: JudgeJobOptions,
) {
  return async (job: Job<StoredJudgeJob>, _token?: string, signal?: AbortSignal): Promise<JudgeResult> => {
    // Registered before the load, whose read of the cancel key answers the stage's first check.
    const fusionId = jobFusionId(job.data);
    const cancel = runtime.cancel.register(fusionId, signal);
    try {
      const loaded = await loadJudgeJob(runtime.redis, job.data);
      const { data } = loaded;
      const log = runtime.logger.child({ fusionId: data.fusionId, requestId: data.requestId });
      const results = await readPanelResults(job, data.panel);
      return await runJudge(
        { ...data, results, structuredOutput: options.structuredOutput, timeoutMs: options.timeoutMs },
        {
          ...innerStagePorts(runtime, tools, data.fusionId, log, cancel.signal, loaded),
          onRepair: () => metrics.judgeRepairs.inc(),
        },
      );
    } finally {
      cancel.release();
      // The stage's last progress goes before the job's end lets the next stage start.
      runtime.events.sendNow(fusionId);
    }
  };
}
