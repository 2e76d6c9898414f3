import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSimulator } from "@fusion/simulator/test-support";
import { freePort, type RedisClusterFixture, readSseFrames, Stack, startRedisCluster } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel } from "./support/fixture.ts";
import { contentOf } from "./support/sse.ts";

/**
 * Every service on a local three-master Redis Cluster (`REDIS_CLUSTER_NODES`, no `REDIS_URL`): fusions
 * of every path, resumed streams, cancellation and readiness, with each fusion's keys on the master of
 * its own slot and each deployment's queues on one master.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

let cluster: RedisClusterFixture;

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  await cluster?.close();
});

type Completion = {
  model: string;
  choices: Array<{ message: { content: string } }>;
  fusion: { status: string; responses: Array<{ model: string }>; analysis?: unknown };
};

describe("services on a Redis Cluster", () => {
  const sim = useSimulator();
  let stack: Stack;
  /** Every fusion id the suite saw, for the placement checks. */
  const fusionIds: string[] = [];

  beforeAll(async () => {
    stack = new Stack({
      redisUrl: "",
      redisClusterNodes: cluster.nodesEnv,
      simulatorUrl: sim.url,
      gateways: 2,
      panelWorkers: 2,
      // The per-key limits run their Lua scripts on every request (far above what the suite sends).
      env: { RESUME_GRACE_MS: "2000", RATE_LIMIT_RPM: "10000", MAX_CONCURRENT_FUSIONS: "100" },
    });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const post = (body: unknown, gateway = 0, signal?: AbortSignal) =>
    fetch(`${stack.gatewayUrl(gateway)}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.apiKey}` },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  const fusionIdOf = (res: Response) => {
    const id = res.headers.get("x-fusion-id");
    expect(id).toMatch(/^gen-fusion-/);
    fusionIds.push(id as string);
    return id as string;
  };

  it("is ready, counting every worker process although the queues' clients spread over the masters", async () => {
    const res = await fetch(`${stack.baseUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ready", workers: { panel: 2, judge: 1, turn: 1 } });
    // Each worker process is ready too: its connections (cluster clients) are up and its workers run.
    for (const [name, count] of [
      ["panel-worker", 2],
      ["judge-worker", 1],
    ] as const) {
      for (let i = 0; i < count; i++) {
        const worker = await fetch(stack.metricsUrl(name, i).replace(/\/metrics$/, "/readyz"));
        expect(worker.status).toBe(200);
      }
    }
    // Nothing of it came from a Redis outside the cluster.
    expect(stack.env().REDIS_URL).toBeUndefined();
  });

  it("answers a fusion through the alias, not streaming", async () => {
    const res = await post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "Compare ridge, lasso and elastic-net regression." }],
    });
    expect(res.status).toBe(200);
    fusionIdOf(res);
    const body = (await res.json()) as Completion;
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.responses).toHaveLength(3);
    expect(body.fusion.analysis).toBeDefined();
    expect(body.choices[0]?.message.content).toContain(`Final answer from ${body.model}`);
  });

  it("streams a fusion through the alias", async () => {
    const judge = uniqueModel("judge");
    const res = await post({
      model: "openrouter/fusion",
      stream: true,
      messages: [{ role: "user", content: "Stream it." }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p1"), uniqueModel("p2")], model: judge }],
    });
    expect(res.status).toBe(200);
    fusionIdOf(res);
    const frames = await readSseFrames(res);
    expect(contentOf(frames)).toContain(`Final answer from ${judge}`);
    expect(frames.at(-1)?.data).toBe("[DONE]");
  });

  it("runs an offered fusion the model decides to call: the turn waits for its children", async () => {
    const caller = uniqueModel("caller");
    const panel = [uniqueModel("p1"), uniqueModel("p2")];
    await sim.control.script(caller, { fusion: "call" });
    const res = await post({
      model: caller,
      messages: [{ role: "user", content: "What should I use?" }],
      plugins: [{ id: "fusion", analysis_models: panel }],
    });
    expect(res.status).toBe(200);
    const fusionId = fusionIdOf(res);
    const body = (await res.json()) as Completion;
    expect(body.choices[0]?.message.content).toContain(`Final answer from ${caller}`);
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.responses.map((r) => r.model).sort()).toEqual([...panel].sort());
    expect(await sim.control.requests({ model: caller, role: "decider" })).toHaveLength(1);
    expect(await sim.control.requests({ model: caller, role: "judge" })).not.toHaveLength(0);
    // The judge flow was added below the running turn job, which took the judge's result as its child's.
    const redis = cluster.client();
    const turn = await redis.hgetall(`${stack.prefix}:turn:${fusionId}`);
    expect(turn.finishedOn).toBeDefined();
    expect(await redis.hkeys(`${stack.prefix}:turn:${fusionId}:processed`)).toEqual([
      `${stack.prefix}:judge:${fusionId}-judge`,
    ]);
  });

  it("resumes a cut stream through the other gateway with Last-Event-ID: no gap, no duplicate", async () => {
    const writer = uniqueModel("writer");
    await sim.control.script(writer, { tokenDelayMs: 30, onlyRoles: ["writer"] });
    const body = {
      model: "openrouter/fusion",
      stream: true,
      messages: [{ role: "user", content: "a long answer please" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: writer, tools: [] }],
    };
    const whole = await post(body);
    fusionIdOf(whole);
    const expected = contentOf(await readSseFrames(whole));
    expect(expected).toContain(`Final answer from ${writer}`);

    const first = await post(body, 0);
    const fusionId = fusionIdOf(first);
    const head = await readSseFrames(
      first,
      (fs) => fs.filter((f) => f.data && f.data !== "[DONE]").length === 3,
    );
    const lastId = head.filter((f) => f.id).at(-1)?.id as string;
    expect(lastId).toMatch(/^\d+-\d+$/);
    const resumed = await fetch(`${stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/stream`, {
      headers: { authorization: `Bearer ${stack.apiKey}`, "last-event-id": lastId },
    });
    expect(resumed.status).toBe(200);
    const tail = await readSseFrames(resumed);
    expect(tail.at(-1)?.data).toBe("[DONE]");
    expect(contentOf(head) + contentOf(tail)).toBe(expected);
    const ids = [...head, ...tail].flatMap((f) => (f.id ? [f.id] : []));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("cancels a fusion whose client left: the cancellation reaches the worker over the cluster's pub/sub", async () => {
    const slow = uniqueModel("slow");
    const judge = uniqueModel("judge");
    await sim.control.script(slow, { latencyMs: 20_000 });
    const controller = new AbortController();
    const res = await post(
      {
        model: "openrouter/fusion",
        stream: true,
        messages: [{ role: "user", content: "cancel me" }],
        plugins: [{ id: "fusion", analysis_models: [slow], model: judge, tools: [] }],
      },
      0,
      controller.signal,
    );
    const fusionId = fusionIdOf(res);
    await res.body?.getReader().read();
    const deadline = Date.now() + 10_000;
    while ((await sim.control.requests({ model: slow })).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await sim.control.requests({ model: slow })).toHaveLength(1);
    const abortedAt = Date.now();
    controller.abort();

    const redis = cluster.client();
    let finishedOn: string | null = null;
    while (!finishedOn && Date.now() < abortedAt + 15_000) {
      await new Promise((r) => setTimeout(r, 100));
      finishedOn = await redis.hget(`${stack.prefix}:turn:${fusionId}`, "finishedOn");
    }
    // After the 2 s resume grace, far before the panelist's 20 s answer: the cancellation message aborted it.
    expect(finishedOn).not.toBeNull();
    expect(Number(finishedOn) - abortedAt).toBeLessThan(15_000);
    expect(await redis.exists(`fusion:{${fusionId}}:cancelled`)).toBe(1);
    expect(await sim.control.requests({ model: judge })).toHaveLength(0);
    expect(stack.logs).toMatch(/client went away: cancelling the fusion/);
  });

  it("lists the key's fusions and cancels one on request: the index and each fusion's keys sit in different slots", async () => {
    const slow = uniqueModel("slow");
    await sim.control.script(slow, { latencyMs: 20_000 });
    const res = await post({
      model: "openrouter/fusion",
      stream: true,
      messages: [{ role: "user", content: "list and cancel me" }],
      plugins: [{ id: "fusion", analysis_models: [slow], model: uniqueModel("judge"), tools: [] }],
      fusion: { progress: "full", resume_grace_ms: 30_000 },
    });
    const fusionId = fusionIdOf(res);
    const reading = readSseFrames(res);
    const auth = { authorization: `Bearer ${stack.apiKey}` };
    const listed = (await (
      await fetch(`${stack.gatewayUrl(1)}/api/v1/fusions`, { headers: auth })
    ).json()) as {
      data: Array<{ id: string; prompt: string }>;
    };
    expect(listed.data[0]).toMatchObject({ id: fusionId, prompt: "list and cancel me" });
    // Every fusion of the suite so far, newest first.
    expect(listed.data.map((f) => f.id)).toEqual([...fusionIds].reverse());

    const cancelled = await fetch(`${stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/cancel`, {
      method: "POST",
      headers: auth,
    });
    expect(await cancelled.json()).toMatchObject({ id: fusionId, status: "cancelled" });
    const frames = await reading;
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(frames.some((f) => f.data?.includes('"code":"cancelled"'))).toBe(true);
    expect(await sim.control.requests({ model: slow })).toHaveLength(1);
  });

  it("spreads fusions over the masters, each fusion's keys together; the queues sit on one master", async () => {
    // More small fusions until at least two masters hold fusion keys (each id hashes to one of 16384 slots).
    const owners = new Map<string, number>();
    for (const id of fusionIds) owners.set(id, await cluster.ownerOf(`fusion:{${id}}:events`));
    for (let i = 0; new Set(owners.values()).size < 2 && i < 20; i++) {
      const res = await post({
        model: "openrouter/fusion",
        messages: [{ role: "user", content: `spread ${i}` }],
        plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: uniqueModel("j"), tools: [] }],
      });
      expect(res.status).toBe(200);
      await res.json();
      const id = fusionIdOf(res);
      owners.set(id, await cluster.ownerOf(`fusion:{${id}}:events`));
    }
    expect(new Set(owners.values()).size).toBeGreaterThanOrEqual(2);

    for (const [id, port] of owners) {
      // The stream, the metadata and the reader count of a fusion live on the master of its slot.
      const local = await cluster.node(port).keys(`fusion:{${id}}:*`);
      expect(local).toEqual(expect.arrayContaining([`fusion:{${id}}:events`, `fusion:{${id}}:meta`]));
      for (const other of cluster.ports.filter((p) => p !== port))
        expect(await cluster.node(other).keys(`fusion:{${id}}:*`)).toEqual([]);
    }

    // BullMQ's keys of all three queues, and the per-key limits, share the prefix's hash tag: one master.
    const byNode = await Promise.all(cluster.ports.map((p) => cluster.node(p).keys(`${stack.prefix}*`)));
    const holding = byNode.filter((ks) => ks.length > 0);
    expect(holding).toHaveLength(1);
    const queueKeys = holding[0] as string[];
    for (const queue of ["turn", "panel", "judge"])
      expect(queueKeys.some((k) => k.startsWith(`${stack.prefix}:${queue}:`))).toBe(true);
    expect(queueKeys.some((k) => k.startsWith(`${stack.prefix}:limits:`))).toBe(true);
  });

  it("the logs show no cross-slot or cluster errors", () => {
    expect(stack.logs).not.toMatch(/CROSSSLOT|MOVED|ASK |CLUSTERDOWN|Cluster isn't ready|enableOfflineQueue/);
  });
});

describe("the start command on a Redis Cluster", () => {
  let child: ChildProcess;
  let output = "";
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    child = spawn(process.execPath, [join(root, "scripts/start.ts")], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        REDIS_CLUSTER_NODES: cluster.nodesEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (b: Buffer) => {
      output += b.toString();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it("uses the cluster rather than probing or starting a Redis", () => {
    expect(output).toMatch(/using the Redis Cluster of REDIS_CLUSTER_NODES \(3 seed nodes\)/);
    expect(output).not.toMatch(/embedded redis-server|127\.0\.0\.1:6379/);
  });

  it("answers a fusion from the simulator, then stops on Ctrl-C", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "openrouter/fusion",
        messages: [{ role: "user", content: "Compare ridge, lasso and elastic-net regression." }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.responses).toHaveLength(3);
    expect(body.choices[0]?.message.content).toContain("Final answer from");
    // Its queues (default prefix {fusion}) are on the cluster too.
    expect(await cluster.client().exists(`{fusion}:turn:${res.headers.get("x-fusion-id")}`)).toBe(1);

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});
