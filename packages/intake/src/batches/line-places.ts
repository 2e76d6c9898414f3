import type { RedisClient } from "@fusion/runtime";
import { z } from "zod";
import { batchKeys } from "./batch-keys.ts";
import { LINE_CHUNK } from "./batch-queue.ts";

/**
 * Where a batch line is in its input file (its bytes, inclusive), its `custom_id`, and whether it runs
 * as a fusion (so it takes a background permit before its body is read).
 */
export interface LinePlace {
  start: number;
  end: number;
  customId: string;
  fusion: boolean;
}

const storedPlace = z.tuple([z.number().int().min(0), z.number().int().min(0), z.string(), z.boolean()]);

/**
 * The places of a batch's lines, written once when the batch is split and read by each line's job:
 * a line job carries only its index, so a job that hands its lane on can add the next line's job.
 */
export class LinePlaces {
  readonly #redis: RedisClient;

  constructor(redis: RedisClient) {
    this.#redis = redis;
  }

  /** Records every line's place (written again whole by a split run again), living until `purgeAtMs`. */
  async write(batchId: string, places: readonly LinePlace[], purgeAtMs: number): Promise<void> {
    const key = batchKeys.places(batchId);
    for (let from = 0; from < places.length; from += LINE_CHUNK) {
      const fields: Record<string, string> = {};
      places.slice(from, from + LINE_CHUNK).forEach((p, i) => {
        fields[from + i] = JSON.stringify([p.start, p.end, p.customId, p.fusion]);
      });
      const results = await this.#redis.multi().hset(key, fields).pexpireat(key, purgeAtMs).exec();
      for (const [err] of results ?? []) if (err) throw err;
    }
  }

  /** A line's place; undefined when it was never written or has expired with its batch. */
  async read(batchId: string, index: number): Promise<LinePlace | undefined> {
    const stored = await this.#redis.hget(batchKeys.places(batchId), String(index));
    if (stored === null) return undefined;
    let parsed: ReturnType<typeof storedPlace.safeParse>;
    try {
      parsed = storedPlace.safeParse(JSON.parse(stored));
    } catch {
      return undefined;
    }
    if (!parsed.success) return undefined;
    const [start, end, customId, fusion] = parsed.data;
    return { start, end, customId, fusion };
  }
}
