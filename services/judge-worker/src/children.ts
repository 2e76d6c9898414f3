import type { Job } from "bullmq";

/**
 * A parent's view of its children, by job id. BullMQ keys children by their full Redis key
 * (`<prefix>:<queue>:<jobId>`); the id is the part after the last colon. The failures of children
 * that left no value are read only when one of `expected` (job ids) has none: a fusion whose
 * children all answered costs one read.
 */
export async function readChildren(
  job: Job,
  expected: string[],
): Promise<{
  values: Map<string, unknown>;
  failures: Map<string, string>;
}> {
  const byId = <T>(record: Record<string, T>) =>
    new Map(Object.entries(record).map(([key, v]) => [key.slice(key.lastIndexOf(":") + 1), v] as const));
  const values = byId(await job.getChildrenValues());
  if (expected.every((id) => values.has(id))) return { values, failures: new Map() };
  return { values, failures: byId((await job.getIgnoredChildrenFailures()) as Record<string, string>) };
}
