import type { PendingEvent } from "@fusion/wire";

/**
 * Where a stage writes what the client will read: progress, the answer's chunks, the final
 * completion or the error. Several events given at once are appended atomically, in order. The
 * runtime's `EventWriter` (a Redis Stream per fusion) is one; an in-process run may collect them.
 */
export interface EventSink {
  append(fusionId: string, ...events: PendingEvent[]): Promise<string>;
}
