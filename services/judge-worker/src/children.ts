import type { Job } from "bullmq";

/**
 * A parent's view of its children, by job id. BullMQ keys children by their full Redis key
 * (`<prefix>:<queue>:<jobId>`); the id is the part after the last colon.
 */
export async function readChildren(job: Job): Promise<{
  values: Map<string, unknown>;
  failures: Map<string, string>;
}> {
  const [values, failures] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
  const byId = <T>(record: Record<string, T>) =>
    new Map(Object.entries(record).map(([key, v]) => [key.slice(key.lastIndexOf(":") + 1), v] as const));
  return { values: byId(values), failures: byId(failures as Record<string, string>) };
}
