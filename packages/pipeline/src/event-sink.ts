import type { PendingEvent } from "@fusion/wire";

/**
 * Where a stage writes what the client will read: progress, the answer's chunks, the final
 * completion or the error. Several events given at once are appended atomically, in order. The
 * runtime's `EventWriter` (a Redis Stream per fusion) is one; an in-process run may collect them.
 */
export interface EventSink {
  append(fusionId: string, ...events: PendingEvent[]): Promise<string>;
  /**
   * Appends like `append`, but may hold the events a few milliseconds so that what the fusion's
   * stages report next goes in the same write (status updates of several panelists, a status and
   * the text after it). For updates whose exact time matters little; without it, `append`.
   */
  appendSoon?(fusionId: string, ...events: PendingEvent[]): Promise<string>;
}
