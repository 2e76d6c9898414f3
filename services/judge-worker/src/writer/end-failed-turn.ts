import { ChunkBuilder } from "@fusion/pipeline";
import type { WorkerRuntime } from "@fusion/runtime";
import type { StoredTurnJob } from "@fusion/wire";
import { type Job, UnrecoverableError } from "bullmq";

/** The status a client sees when its fusion's turn failed for good outside the writer's own handling. */
const FAILED_TURN_STATUS = 500;

/**
 * The message for a turn that failed for good: our own reasons (an `UnrecoverableError`, such as a
 * conversation that expired) are told as they are; anything else is an internal error, named by the
 * request id that the logs carry with its details.
 */
function messageOf(err: Error, requestId: string | undefined): string {
  if (err instanceof UnrecoverableError || err.name === "UnrecoverableError") {
    return `the fusion could not go on: ${err.message}`.slice(0, 500);
  }
  return `the fusion stopped after an internal error${requestId ? ` (request ${requestId})` : ""}`;
}

/**
 * Ends the stream of a fusion whose turn job failed for good (no attempt left) with an error chunk
 * and the `error` entry, so that its client gets a clear end instead of waiting. The writer ends the
 * stream itself on the failures it knows (`failTurn`), and a cancel ends it too: the event writer
 * appends nothing after a terminal entry, so this is a no-op then. Never throws: a failure to write is
 * logged.
 */
export async function endFailedTurn(
  runtime: Pick<WorkerRuntime, "events" | "logger">,
  job: Pick<Job<StoredTurnJob>, "data" | "finishedOn">,
  err: Error,
): Promise<void> {
  if (!job.finishedOn) return; // it will run again
  const { fusionId, requestId, createdAt, writerModel } = job.data;
  const message = messageOf(err, requestId);
  const chunks = new ChunkBuilder(fusionId, Math.floor((createdAt || Date.now()) / 1000), writerModel);
  try {
    await runtime.events.append(
      fusionId,
      { type: "chunk", data: chunks.error(FAILED_TURN_STATUS, message) },
      { type: "error", data: { status: FAILED_TURN_STATUS, message } },
    );
  } catch (e) {
    runtime.logger.error({ fusionId, err: (e as Error).message }, "could not end the failed turn's stream");
  }
}
