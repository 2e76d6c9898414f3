import { type RedisFixture, startRedis } from "@fusion/testing";
import type { FusionSettings, StoredTurnJobInput } from "@fusion/wire";
import { FlowProducer, type Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../redis/redis.ts";
import { buildForcedFlow, buildJudgeFlow } from "./flows.ts";
import { BACKGROUND_PRIORITY, fusionPriority, jobIds, jobOptions, queueNames } from "./job-catalog.ts";

/**
 * Fair sharing on a real Redis: a background fusion's jobs carry `BACKGROUND_PRIORITY` on every node of
 * its flow, an interactive fusion's none, and a worker takes the interactive jobs waiting in a queue
 * before the background ones, whatever order they came in.
 */
let fixture: RedisFixture;
let redis: Redis;
let seq = 0;
let open: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "commands", "test-fusion-priority");
});

afterEach(async () => {
  for (const closable of open.reverse()) await closable.close();
  open = [];
});

afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

const settings: FusionSettings = {
  analysisModels: ["sim/a", "sim/b"],
  judgeModel: "sim/judge",
  maxToolCalls: 1,
  tools: [],
};

/** A fresh hash-tagged prefix per test, its queues obliterated after it. */
function freshPrefix(): string {
  const prefix = `{priority-test-${process.pid}-${++seq}}`;
  open.push({
    close: async () => {
      for (const name of Object.values(queueNames)) {
        const queue = new Queue(name, { connection: redis, prefix });
        await queue.obliterate({ force: true });
        await queue.close();
      }
    },
  });
  return prefix;
}

function turnData(fusionId: string, background: boolean): StoredTurnJobInput {
  return {
    fusionId,
    requestId: `req-${fusionId}`,
    mode: "forced",
    stream: false,
    includeUsage: false,
    writerModel: "sim/writer",
    settings,
    createdAt: Date.now(),
    step: "await-fusion",
    ...(background ? { background: true } : {}),
  };
}

/** The ids a one-slot worker on `queue` takes, in order, until it has taken `count`. */
async function takenInOrder(prefix: string, queue: string, count: number): Promise<string[]> {
  const taken: string[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const worker = new Worker(
    queue,
    async (job: Job) => {
      taken.push(job.id ?? "");
      if (taken.length === count) done();
    },
    { connection: redis, prefix, concurrency: 1 },
  );
  worker.on("error", () => {});
  open.push(worker);
  await all;
  return taken;
}

describe("fusion priorities", () => {
  it("interactive jobs carry no priority, background ones BACKGROUND_PRIORITY", () => {
    expect(fusionPriority(false)).toEqual({});
    expect(fusionPriority(undefined)).toEqual({});
    expect(fusionPriority(true)).toEqual({ priority: BACKGROUND_PRIORITY });
  });

  it("a worker takes the interactive jobs waiting in a queue before the background ones", async () => {
    const prefix = freshPrefix();
    const queue = new Queue(queueNames.panel, { connection: redis, prefix });
    open.push(queue);
    const add = (id: string, background: boolean) =>
      queue.add(
        "panel",
        { id },
        { ...jobOptions(queueNames.panel), ...fusionPriority(background), jobId: id },
      );
    // Background work queued first, interactive work arriving behind it.
    for (const id of ["bg-1", "bg-2", "bg-3"]) await add(id, true);
    for (const id of ["fg-1", "fg-2"]) await add(id, false);
    await add("bg-4", true);
    await add("fg-3", false);

    const taken = await takenInOrder(prefix, queueNames.panel, 7);
    expect(taken).toEqual(["fg-1", "fg-2", "fg-3", "bg-1", "bg-2", "bg-3", "bg-4"]);
  });

  it("every job of a background flow carries the priority; a worker serves the interactive flow's first", async () => {
    const prefix = freshPrefix();
    const flows = new FlowProducer({ connection: redis, prefix });
    open.push(flows);
    const flowOf = (fusionId: string, background: boolean) =>
      buildForcedFlow(turnData(fusionId, background), {
        fusionId,
        requestId: `req-${fusionId}`,
        settings,
        progress: "none",
        prefix,
        background,
      });
    await flows.add(flowOf("bg", true));
    await flows.add(flowOf("fg", false));
    // An offered fusion's judge flow, added later below its turn, carries the turn's priority too.
    await flows.add(
      buildJudgeFlow({
        fusionId: "bg-offered",
        requestId: "r",
        settings,
        progress: "none",
        prefix,
        background: true,
      }),
    );

    const queues = new Map(
      Object.values(queueNames).map((name) => [name, new Queue(name, { connection: redis, prefix })]),
    );
    open.push(...queues.values());
    const priorityOf = async (queue: string, id: string) => {
      const job = await queues.get(queue as (typeof queueNames)[keyof typeof queueNames])?.getJob(id);
      if (!job) throw new Error(`no job ${queue}/${id}`);
      return job.opts.priority ?? 0;
    };
    const nodes = (fusionId: string) => [
      [queueNames.turn, jobIds.turn(fusionId)],
      [queueNames.judge, jobIds.judge(fusionId)],
      [queueNames.panel, jobIds.panel(fusionId, 0)],
      [queueNames.panel, jobIds.panel(fusionId, 1)],
    ];
    for (const [queue, id] of nodes("bg"))
      expect(await priorityOf(queue as string, id as string)).toBe(BACKGROUND_PRIORITY);
    for (const [queue, id] of nodes("fg")) expect(await priorityOf(queue as string, id as string)).toBe(0);
    for (const [queue, id] of nodes("bg-offered").slice(1))
      expect(await priorityOf(queue as string, id as string)).toBe(BACKGROUND_PRIORITY);

    // The background flows were added first; their panel jobs are still taken last.
    const taken = await takenInOrder(prefix, queueNames.panel, 6);
    expect(taken.slice(0, 2).sort()).toEqual([jobIds.panel("fg", 0), jobIds.panel("fg", 1)]);
    expect(taken.slice(2).sort()).toEqual(
      [
        jobIds.panel("bg", 0),
        jobIds.panel("bg", 1),
        jobIds.panel("bg-offered", 0),
        jobIds.panel("bg-offered", 1),
      ].sort(),
    );
  });
});
