import type { BatchLanes } from "./batch-lanes.ts";
import { lineRequestId } from "./batch-ids.ts";
import type { BatchStore } from "./batch-store.ts";
import type { LinePlaces } from "./line-places.ts";
import { unrunLine } from "./output-lines.ts";

/** What a line's job is, as BullMQ tells it (`unknown`: there is none). */
export type LineJobState = "unknown" | (string & {});

/** The states of a job that has yet to settle: its line holds its lane. */
const pending = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

export interface LaneStores {
  batches: BatchStore;
  places: LinePlaces;
  lanes: BatchLanes;
}

/**
 * Starts a batch's lanes, or starts them again: run by the batch job at its split and each time every
 * line job has settled, while the batch runs (in progress, within its window). Lines lanes took that
 * are not answered are looked at by their job: one yet to settle holds its lane; one with no job (a
 * line job died between handing its lane on and adding the next line's job) is started again; one
 * whose job settled without an answer (failed for good, say by stalling out, before it could answer
 * or hand on) is answered `batch_failed`. The lanes left up to `maxLanes` take lines no lane has
 * taken. Returns the lines whose jobs to add now (none of them has a job); none when nothing is left
 * to start. Run again after a crash, it finds what the last run started: no line is started twice,
 * none is left behind.
 */
export async function startLanes(
  stores: LaneStores,
  batchId: string,
  maxLanes: number,
  jobState: (index: number) => Promise<LineJobState>,
): Promise<number[]> {
  const { batches, lanes } = stores;
  const record = await batches.record(batchId);
  const running = record?.status === "in_progress" && Date.now() < Number(record.expires_at) * 1000;
  if (!running) return [];
  // While the batch runs, only lines lanes took (0 … taken - 1) can be answered: counting says enough.
  const taken = await lanes.cursor(batchId);
  const unanswered: number[] = [];
  if ((await batches.answeredCount(batchId)) < taken) {
    const answered = new Set(await batches.answeredLines(batchId));
    for (let index = 0; index < taken; index++) if (!answered.has(index)) unanswered.push(index);
  }
  const states = await Promise.all(unanswered.map(jobState));
  let held = 0;
  const again: number[] = [];
  for (const [i, index] of unanswered.entries()) {
    const state = states[i] ?? "unknown";
    if (pending.has(state)) held++;
    else if (state === "unknown") again.push(index);
    else {
      const customId = (await stores.places.read(batchId, index))?.customId ?? "";
      const line = unrunLine(lineRequestId(batchId, index), customId, "batch_failed");
      await batches.answer(batchId, index, "error", line);
    }
  }
  const restart = again.slice(0, Math.max(0, maxLanes - held));
  return [...restart, ...(await lanes.claim(batchId, maxLanes - held - restart.length))];
}
