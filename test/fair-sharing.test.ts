import { BACKGROUND_PRIORITY, jobIds, queueNames } from "@fusion/runtime";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * Fair sharing on the real services: every job of a background fusion (an async request, a batch's
 * line) runs at
 * `BACKGROUND_PRIORITY` in the turn, judge and panel queues, the judge flow an offered fusion's writer
 * adds later included; an interactive fusion's jobs carry no priority. Read back from BullMQ while the
 * fusions run (panel and judge jobs are removed once done).
 */
const e2e = useStack();
let redis: Redis;
let queues: Record<"turn" | "judge" | "panel", Queue>;
beforeAll(() => {
  redis = new Redis(e2e.redis.url, { maxRetriesPerRequest: null });
  const queue = (name: string) => new Queue(name, { connection: redis, prefix: e2e.stack.prefix });
  queues = { turn: queue(queueNames.turn), judge: queue(queueNames.judge), panel: queue(queueNames.panel) };
});
afterAll(async () => {
  if (queues) await Promise.all(Object.values(queues).map((q) => q.close()));
  redis?.disconnect();
});

/** The BullMQ priority of a job (0: none), once the job exists. */
async function priorityOf(queue: keyof typeof queues, jobId: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const job = await queues[queue].getJob(jobId);
    if (job) return job.opts.priority ?? 0;
    if (Date.now() > deadline) throw new Error(`no ${queue} job ${jobId} after 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The priorities of a fusion's turn, judge and panel jobs, read while its one slow panelist works. */
async function prioritiesOf(fusionId: string) {
  return {
    turn: await priorityOf("turn", jobIds.turn(fusionId)),
    judge: await priorityOf("judge", jobIds.judge(fusionId)),
    panel: await priorityOf("panel", jobIds.panel(fusionId, 0)),
  };
}

const background = { turn: BACKGROUND_PRIORITY, judge: BACKGROUND_PRIORITY, panel: BACKGROUND_PRIORITY };
const interactive = { turn: 0, judge: 0, panel: 0 };

async function fusionIdOf(res: Response): Promise<string> {
  const id = res.headers.get("x-fusion-id");
  if (!id) throw new Error(`no fusion id: ${res.status} ${await res.text()}`);
  return id;
}

describe("fusion priorities", () => {
  it("an async forced fusion runs every job at the background priority; an interactive one at none", async () => {
    const panelist = uniqueModel("slow");
    const writer = uniqueModel("w");
    await e2e.control.script(panelist, { latencyMs: 1500 });
    const body = {
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "fair sharing" }],
      plugins: [{ id: "fusion", analysis_models: [panelist], model: writer, tools: [] }],
    };
    const async = await e2e.post(body, { headers: { prefer: "respond-async" } });
    expect(async.status).toBe(202);
    expect(await prioritiesOf(await fusionIdOf(async))).toEqual(background);

    const res = await e2e.post({ ...body, stream: true });
    expect(res.status).toBe(200);
    expect(await prioritiesOf(await fusionIdOf(res))).toEqual(interactive);
    await res.text();
  });

  it("an async offered fusion: the judge flow its writer adds later runs at the background priority", async () => {
    const caller = uniqueModel("caller");
    const panelist = uniqueModel("slow");
    await e2e.control.script(caller, { fusion: "call" });
    await e2e.control.script(panelist, { latencyMs: 1500 });
    const res = await e2e.post(
      {
        model: caller,
        messages: [{ role: "user", content: "fair sharing, offered" }],
        plugins: [{ id: "fusion", analysis_models: [panelist], tools: [] }],
      },
      { headers: { prefer: "respond-async" } },
    );
    expect(res.status).toBe(202);
    expect(await prioritiesOf(await fusionIdOf(res))).toEqual(background);
  });

  it("a batch's fusion line runs every job at the background priority", async () => {
    const panelist = uniqueModel("slow");
    await e2e.control.script(panelist, { latencyMs: 1500 });
    const body = {
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "fair sharing, batched" }],
      plugins: [{ id: "fusion", analysis_models: [panelist], model: uniqueModel("w"), tools: [] }],
    };
    const line = { custom_id: "one", method: "POST", url: "/v1/chat/completions", body };
    const file = await e2e.client.files.create({
      file: await toFile(Buffer.from(JSON.stringify(line)), "batch.jsonl"),
      purpose: "batch",
    });
    await e2e.client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    // The line's fusion id is derived by the worker: found by its panel job, the one running now.
    const deadline = Date.now() + 15_000;
    let fusionId: string | undefined;
    while (!fusionId) {
      const jobs = await queues.panel.getJobs(["active", "prioritized", "waiting"]);
      fusionId = (jobs.find((j) => j?.data?.model === panelist)?.data as { fusionId?: string })?.fusionId;
      if (Date.now() > deadline) throw new Error("no panel job of the batch's fusion after 15 s");
      if (!fusionId) await new Promise((r) => setTimeout(r, 20));
    }
    expect(await prioritiesOf(fusionId)).toEqual(background);
  });
});
