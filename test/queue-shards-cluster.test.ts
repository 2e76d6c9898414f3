import { queueShards, shardOfFusion } from "@fusion/runtime";
import { useSimulator } from "@fusion/simulator/test-support";
import { type RedisClusterFixture, Stack, startRedisCluster } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel } from "./support/fixture.ts";

/**
 * Queue shards on a local three-master Redis Cluster: with QUEUE_SHARDS=3 the shards' queues sit on the
 * three masters and a batch of fusions spreads its Redis commands over them (INFO commandstats of each
 * master, before and after); with one shard, for contrast, the job traffic lands on the master of the
 * queue prefix's slot.
 */

/**
 * Fusions per batch. Fusion ids are random, so each master's share of the fusions (their streams and,
 * through their shard, their jobs) is a sample; and the master of the prefix's own slot also holds the
 * suite's one API key's owner index and the gateways' sweeps (about 13% more than its share, measured).
 * With 900 fusions a max/min above 1.5 by chance is then about 1 in 4,000 (with 150, 1 in 6).
 */
const SPREAD_FUSIONS = 900;
/** The one-shard contrast needs no such care: its queue master runs ten times what the others do. */
const CONTRAST_FUSIONS = 150;
const CONCURRENCY = 20;
/** Connection housekeeping (slot map refreshes, health checks, these very reads), not fusion traffic. */
const HOUSEKEEPING = new Set(["info", "cluster", "client", "ping", "command", "hello", "select", "readonly"]);

let cluster: RedisClusterFixture;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.close();
});

/** Commands each master has run so far, from INFO commandstats (housekeeping left out). */
async function commandsPerMaster(): Promise<number[]> {
  return Promise.all(
    cluster.ports.map(async (port) => {
      const info = await cluster.node(port).info("commandstats");
      let calls = 0;
      for (const [, name, n] of info.matchAll(/^cmdstat_([^:|]+)[^:]*:calls=(\d+)/gm))
        if (name && !HOUSEKEEPING.has(name)) calls += Number(n);
      return calls;
    }),
  );
}

interface BatchResult {
  prefix: string;
  perMaster: number[];
  fusionIds: string[];
}

/** Runs a stack with `shards` queue shards on the cluster, and a batch of small forced fusions on it. */
async function runBatch(simUrl: string, shards: number, fusions: number): Promise<BatchResult> {
  const stack = new Stack({
    redisUrl: "",
    redisClusterNodes: cluster.nodesEnv,
    simulatorUrl: simUrl,
    env: { QUEUE_SHARDS: String(shards) },
  });
  try {
    await stack.start();
    const before = await commandsPerMaster();
    const fusionIds: string[] = [];
    let next = 0;
    const one = async () => {
      for (let i = next++; i < fusions; i = next++) {
        const res = await fetch(`${stack.baseUrl}/api/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${stack.apiKey}` },
          body: JSON.stringify({
            model: "openrouter/fusion",
            messages: [{ role: "user", content: `batch ${i}` }],
            plugins: [
              { id: "fusion", analysis_models: [uniqueModel("p")], model: uniqueModel("j"), tools: [] },
            ],
          }),
        });
        const body = (await res.json()) as { id: string; fusion?: { status: string } };
        expect(res.status).toBe(200);
        expect(body.fusion?.status).toBe("ok");
        fusionIds.push(body.id);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, one));
    const after = await commandsPerMaster();
    expect(stack.logs).not.toMatch(/CROSSSLOT|MOVED|CLUSTERDOWN|"worker error"/);
    return { prefix: stack.prefix, perMaster: after.map((n, i) => n - (before[i] ?? 0)), fusionIds };
  } finally {
    await stack.stop();
  }
}

const spread = (perMaster: number[]) => Math.max(...perMaster) / Math.min(...perMaster);

describe("queue shards on a three-master Redis Cluster", () => {
  const sim = useSimulator();

  it("puts the three shards' queues on the three masters and spreads the job traffic evenly", async () => {
    const { prefix, perMaster, fusionIds } = await runBatch(sim.url, 3, SPREAD_FUSIONS);
    const shards = queueShards(prefix, 3);
    // Each shard's slot, as the cluster computes it, and the master serving it: one per master.
    const owners = [];
    for (const shard of shards) {
      expect(
        await cluster.node(cluster.ports[0] as number).cluster("KEYSLOT", `${shard.prefix}:turn:x`),
      ).toBe(shard.slot);
      owners.push(await cluster.ownerOf(`${shard.prefix}:turn:x`));
    }
    expect(new Set(owners).size).toBe(3);
    // Every fusion's turn job is in its shard, on that shard's master.
    const client = cluster.client();
    for (const id of fusionIds.slice(0, 20)) {
      const shard = shardOfFusion(shards, id);
      expect(await client.exists(`${shard.prefix}:turn:${id}`)).toBe(1);
    }
    const fusionsPerShard = [0, 1, 2].map(
      (i) => fusionIds.filter((id) => shardOfFusion(shards, id).index === i).length,
    );
    console.info(
      `3 shards: fusions per shard ${fusionsPerShard.join(", ")}; commands per master ${perMaster.join(", ")} (max/min ${spread(perMaster).toFixed(2)})`,
    );
    expect(spread(perMaster)).toBeLessThanOrEqual(1.5);
  });

  it("with one shard, concentrates the job traffic on the master of the queue prefix (the contrast)", async () => {
    const { prefix, perMaster } = await runBatch(sim.url, 1, CONTRAST_FUSIONS);
    const queueMaster = cluster.ports.indexOf(await cluster.ownerOf(`${prefix}:turn:x`));
    console.info(
      `1 shard: commands per master ${perMaster.join(", ")} (max/min ${spread(perMaster).toFixed(2)})`,
    );
    const others = perMaster.filter((_, i) => i !== queueMaster);
    expect(perMaster[queueMaster]).toBeGreaterThan(2 * Math.max(...others));
  });
});
