import type { ProgressFields } from "@fusion/wire";
import { progressEvent } from "@fusion/wire";
import type { EventSink } from "./event-sink.ts";

export type ProgressReporter = (fields: Omit<ProgressFields, "stage" | "model" | "index">) => void;

/**
 * Reports one stage's progress to its fusion's stream, fire-and-forget (a lost progress line is only
 * logged), and not at all when nobody streams the fusion.
 */
export function progressReporter(
  events: EventSink,
  fusionId: string,
  enabled: boolean,
  stage: Pick<ProgressFields, "stage" | "model" | "index">,
  log: { warn(obj: object, msg: string): void },
): ProgressReporter {
  if (!enabled) return () => {};
  return (fields) => {
    events
      .append(fusionId, { type: "progress", data: progressEvent(fusionId, { ...stage, ...fields }) })
      .catch((err) => log.warn({ err: (err as Error).message }, "could not write progress"));
  };
}
