import { createRedis, type RedisClient } from "@fusion/runtime";
import { type RedisFixture, startRedis } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchLanes } from "./batch-lanes.ts";
import { newBatchId } from "./batch-ids.ts";
import { batchKeys } from "./batch-keys.ts";
import { BatchStore } from "./batch-store.ts";
import { LinePlaces } from "./line-places.ts";
import { responseLine } from "./output-lines.ts";
import { startLanes } from "./start-lanes.ts";

let fixture: RedisFixture;
let redis: RedisClient;
let store: BatchStore;
let lanes: BatchLanes;
beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "commands", "test-batch-lanes");
  store = new BatchStore(redis, { retentionSeconds: 3600, maxBatchesPerOwner: 1000 });
  lanes = new BatchLanes(redis);
});
afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

async function newBatch(total: number, windowSeconds = 3600): Promise<string> {
  const id = newBatchId();
  await store.create({
    id,
    owner: `owner-${Math.random().toString(36).slice(2)}`,
    inputFileId: "file-x",
    endpoint: "/v1/chat/completions",
    metadata: null,
    completionWindow: "24h",
    windowSeconds,
    total,
    errors: [],
  });
  return id;
}

const answer = (batchId: string, index: number) => {
  const { kind, line } = responseLine(`r${index}`, `c${index}`, 200, {});
  return store.answer(batchId, index, kind, line);
};

describe("BatchLanes", () => {
  it("hands each line's lane on once: a line run again hands on to the same line", async () => {
    const batchId = await newBatch(5);
    expect(await lanes.claim(batchId, 2)).toEqual([0, 1]);
    expect(await lanes.handOver(batchId, 0)).toEqual({ fresh: true, lines: [2] });
    expect(await lanes.handOver(batchId, 0)).toEqual({ fresh: false, lines: [2] });
    await answer(batchId, 2);
    // Line 2 answered: its own job hands its lane on; line 0 run again adds nothing.
    expect(await lanes.handOver(batchId, 0)).toEqual({ fresh: false, lines: [] });
    expect(await lanes.handOver(batchId, 1)).toEqual({ fresh: true, lines: [3] });
    expect(await lanes.handOver(batchId, 2)).toEqual({ fresh: true, lines: [4] });
    expect(await lanes.handOver(batchId, 3)).toEqual({ fresh: true, lines: [] });
    expect(await lanes.handOver(batchId, 3)).toEqual({ fresh: false, lines: [] });
    expect(await lanes.claim(batchId, 2)).toEqual([]);
    expect(await lanes.cursor(batchId)).toBe(5);
    expect(await redis.pttl(batchKeys.lanes(batchId))).toBeGreaterThan(0);
  });

  it("takes no line once the batch is cancelled or past its window, and writes nothing for a batch gone", async () => {
    const cancelled = await newBatch(4);
    expect(await lanes.claim(cancelled, 2)).toEqual([0, 1]);
    await store.transition(cancelled, "cancelling", ["in_progress"]);
    expect(await lanes.handOver(cancelled, 0)).toEqual({ fresh: true, lines: [] });
    expect(await lanes.handOver(cancelled, 0)).toEqual({ fresh: false, lines: [] });
    expect(await lanes.claim(cancelled, 2)).toEqual([]);
    expect(await lanes.cursor(cancelled)).toBe(2);

    expect(await lanes.claim(await newBatch(4, 0), 2)).toEqual([]);

    const gone = newBatchId();
    expect(await lanes.claim(gone, 2)).toEqual([]);
    expect(await lanes.handOver(gone, 0)).toEqual({ fresh: true, lines: [] });
    expect(await redis.exists(batchKeys.lanes(gone))).toBe(0);
  });
});

describe("startLanes", () => {
  const stores = () => ({ batches: store, places: new LinePlaces(redis), lanes });

  it("starts L lanes, holds the running ones, starts lines left with no job again, answers failed ones", async () => {
    const batchId = await newBatch(6);
    const jobs = new Map<number, string>();
    const state = async (index: number) => jobs.get(index) ?? "unknown";
    expect(await startLanes(stores(), batchId, 3, state)).toEqual([0, 1, 2]);
    for (const index of [0, 1, 2]) jobs.set(index, "waiting");
    // Run again (a split run twice): its lanes are running, nothing more starts.
    expect(await startLanes(stores(), batchId, 3, state)).toEqual([]);

    await answer(batchId, 0);
    jobs.delete(0);
    expect((await lanes.handOver(batchId, 0)).lines).toEqual([3]); // its job never added: line 0 died
    jobs.set(1, "failed"); // failed for good, unanswered, its lane never handed on
    jobs.set(2, "active");
    expect(await startLanes(stores(), batchId, 3, state)).toEqual([3, 4]);
    const [failed] = await store.answers(batchId, [1]);
    expect(JSON.parse(failed?.slice(1) ?? "{}")).toMatchObject({ error: { code: "batch_failed" } });

    await store.transition(batchId, "cancelling", ["in_progress"]);
    jobs.clear();
    expect(await startLanes(stores(), batchId, 3, state)).toEqual([]);
  });

  it("runs a batch on at most L lanes through reruns and lost lanes, each line's job added once", async () => {
    const total = 60;
    const L = 4;
    const batchId = await newBatch(total);
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // BullMQ as the lanes see it: jobs yet to settle, and jobs that failed for good.
    const jobs = new Set<number>();
    const failed = new Set<number>();
    const added = new Map<number, number>();
    // A job whose line has handed its lane on holds none: it only adds the next job and completes.
    const handedOn = new Set<number>();
    const handedTo = new Set<number>();
    const notAdded = new Set<number>();
    const freshHandOvers = new Map<number, number>();
    let mostLanes = 0;
    const add = (lines: number[]) => {
      for (const line of lines) {
        if (jobs.has(line) || failed.has(line)) continue;
        jobs.add(line);
        added.set(line, (added.get(line) ?? 0) + 1);
      }
      mostLanes = Math.max(mostLanes, [...jobs].filter((line) => !handedOn.has(line)).length);
    };
    const jobState = async (index: number) =>
      jobs.has(index) ? "active" : failed.has(index) ? "failed" : "unknown";

    add(await startLanes(stores(), batchId, L, jobState));
    let rerunsAfterHandOver = 0;
    let restarted = 0;
    for (let steps = 0; steps < 10_000; steps++) {
      if (jobs.size === 0) {
        // Every job settled: the batch job starts lost lanes again, or finalizes.
        const lines = await startLanes(stores(), batchId, L, jobState);
        if (lines.length === 0) break;
        restarted += lines.filter((line) => handedTo.has(line)).length;
        add(lines);
        continue;
      }
      const line = [...jobs][Math.floor(random() * jobs.size)] as number;
      const roll = random();
      if (roll < 0.04 || (notAdded.has(line) && roll < 0.3)) {
        // Fails for good with no chance to answer or hand on (it stalled out): its lane is lost, and
        // the line it handed on to, if its job was not added yet, is left with none.
        jobs.delete(line);
        failed.add(line);
        continue;
      }
      if (roll < 0.15) continue; // crashed before its answer: run again later
      await answer(batchId, line);
      if (roll < 0.25) continue; // crashed after its answer, before the hand-over
      const next = await lanes.handOver(batchId, line);
      handedOn.add(line);
      if (next.fresh) {
        freshHandOvers.set(line, (freshHandOvers.get(line) ?? 0) + 1);
        for (const n of next.lines) handedTo.add(n);
      }
      if (roll < 0.4) {
        rerunsAfterHandOver++;
        notAdded.add(line);
        continue; // crashed after the hand-over, before adding the next job
      }
      notAdded.delete(line);
      add(next.lines);
      if (roll < 0.5) continue; // crashed after adding it, before completing
      jobs.delete(line);
    }

    expect(jobs.size).toBe(0);
    expect(mostLanes).toBeLessThanOrEqual(L);
    expect(rerunsAfterHandOver).toBeGreaterThan(0);
    expect(failed.size).toBeGreaterThan(0);
    expect(restarted).toBeGreaterThan(0);
    const lines = Array.from({ length: total }, (_, i) => i);
    expect(lines.filter((i) => added.get(i) !== 1)).toEqual([]);
    expect([...freshHandOvers.values()].every((n) => n === 1)).toBe(true);
    const answers = await store.answers(batchId, lines);
    expect(lines.filter((i) => answers[i] === undefined)).toEqual([]);
    const failedAnswers = lines.filter((i) => answers[i]?.includes('"batch_failed"'));
    expect(failedAnswers.every((i) => failed.has(i))).toBe(true);
  });
});

describe("LinePlaces", () => {
  it("keeps each line's place until its batch is purged", async () => {
    const places = new LinePlaces(redis);
    const batchId = newBatchId();
    const purgeAt = Date.now() + 60_000;
    const written = Array.from({ length: 1_203 }, (_, i) => ({
      start: i * 10,
      end: i * 10 + 8,
      customId: `c${i}`,
      fusion: i % 2 === 0,
    }));
    await places.write(batchId, written, purgeAt);
    expect(await places.read(batchId, 0)).toEqual(written[0]);
    expect(await places.read(batchId, 1_202)).toEqual(written[1_202]);
    expect(await places.read(batchId, 1_203)).toBeUndefined();
    expect(await redis.pttl(batchKeys.places(batchId))).toBeGreaterThan(50_000);
  });
});
