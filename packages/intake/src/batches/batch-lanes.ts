import type { RedisClient } from "@fusion/runtime";
import { batchKeys } from "./batch-keys.ts";
import { laneClaim, laneHandoff } from "./batch-scripts.ts";

/**
 * The line a hand-over gave: `fresh` when this call handed the lane on (no job of the line can exist
 * yet), false when it found the hand-over an earlier run of the line made (the line's job may exist,
 * or have run). Empty when the lane ends (no line left, the batch not running, the line answered).
 */
export interface LaneLines {
  fresh: boolean;
  lines: number[];
}

/**
 * A batch's lanes: the batch runs at most BATCH_LANES lines at once. New lanes take the next lines no
 * lane has taken (`claim`, from a cursor); each line, once answered, hands its lane on to the next
 * such line (`handOver`), and the batch's last lines end their lanes. A hand-over is atomic and
 * recorded per line in Redis, so a line run again (its job rerun after a crash) hands on to the same
 * line: no lane is doubled, and no line is taken twice. Nothing is taken once the batch stops running
 * (cancelling, ending, past its window). See `startLanes` for how lanes start, and start again.
 */
export class BatchLanes {
  readonly #redis: RedisClient;

  constructor(redis: RedisClient) {
    this.#redis = redis;
  }

  /** Takes up to `most` lines no lane has taken, for new lanes (see lua/lane-claim.lua). */
  async claim(batchId: string, most: number): Promise<number[]> {
    if (most <= 0) return [];
    return laneClaim.run(this.#redis, batchKeys.batch(batchId), batchKeys.lanes(batchId), most, Date.now());
  }

  /** How many lines lanes have taken: lines `0 … cursor - 1`. */
  async cursor(batchId: string): Promise<number> {
    return Number((await this.#redis.hget(batchKeys.lanes(batchId), "cursor")) ?? 0);
  }

  /** Hands line `index`'s lane on: the line to run next, if any (see lua/lane-handoff.lua). */
  async handOver(batchId: string, index: number): Promise<LaneLines> {
    const [fresh, ...lines] = await laneHandoff.run(
      this.#redis,
      batchKeys.batch(batchId),
      batchKeys.lanes(batchId),
      batchKeys.answers(batchId),
      index,
      Date.now(),
    );
    return { fresh: fresh === 1, lines };
  }
}
