import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort } from "./free-port.ts";
import { parseClusterNodes, probeNode, waitForClusterOk, waitForPing } from "./redis-cluster-state.ts";

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Masters that share the slots (default 3). */
  masters?: number;
  /** Replicas of each master (default 0): with one or more, a killed master fails over. */
  replicas?: number;
  /** `cluster-node-timeout` (default 5000): how long a node may be silent before it counts as down. */
  nodeTimeoutMs?: number;
}

export interface RedisClusterFixture {
  /** `host:port` of every node (masters, then replicas), as `REDIS_CLUSTER_NODES` takes them. */
  nodes: string[];
  /** The same, comma-separated: the value of `REDIS_CLUSTER_NODES`. */
  nodesEnv: string;
  /** The port of every node, masters first. */
  ports: number[];
  /** A cluster client for a test's own checks (closed by `close`). */
  client(): Cluster;
  /** A plain connection to one node (closed by `close`), e.g. to ask it `CLUSTER KEYSLOT` or `DBSIZE`. */
  node(port: number): Redis;
  /** The port of the master that serves `key`'s slot. */
  ownerOf(key: string): Promise<number>;
  /** The ports of the replicas that follow the master on `port`. */
  replicasOf(port: number): Promise<number[]>;
  /** SIGKILLs the node on `port` (it stays down) and resolves when its process has exited. */
  kill(port: number): Promise<void>;
  /**
   * Resolves once the nodes still running have promoted a replica of each dead master, serve every
   * slot again and say `cluster_state:ok`.
   */
  waitForFailover(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A local Redis Cluster of `redis-server --cluster-enabled yes` processes on free ports in a temporary
 * directory: `masters` masters (default three), each with `replicas` replicas (default none); resolves
 * once every node reports `cluster_state:ok`, agrees on the slot map, and every replica is in sync.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterFixture> {
  const { masters = 3, replicas = 0, nodeTimeoutMs = 5000 } = options;
  const total = masters * (1 + replicas);
  const dir = await mkdtemp(join(tmpdir(), "fusion-redis-cluster-"));
  const ports: number[] = [];
  const children = new Map<number, ChildProcess>();
  const clients: Array<Redis | Cluster> = [];
  const taken = new Set<number>();

  const kill = (port: number) =>
    new Promise<void>((resolve) => {
      const child = children.get(port);
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  const alive = () =>
    ports.filter((p) => {
      const child = children.get(p);
      return child && child.exitCode === null && child.signalCode === null;
    });
  const close = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(ports.map(kill));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < total; i++) {
      const port = await unusedPort(taken);
      ports.push(port);
      // The cluster bus defaults to port + 10000, which may be taken or above 65535: give it its own.
      const busPort = await unusedPort(taken);
      const child = spawn(
        "redis-server",
        [
          ...["--port", String(port), "--bind", "127.0.0.1"],
          ...["--cluster-enabled", "yes", "--cluster-port", String(busPort)],
          ...["--cluster-config-file", join(dir, `nodes-${port}.conf`)],
          ...["--cluster-node-timeout", String(nodeTimeoutMs)],
          // A replica may always take over, however long its link to the dead master has been down.
          ...["--cluster-replica-validity-factor", "0"],
          ...["--dir", dir, "--appendonly", "no", "--save", ""],
        ],
        { stdio: "ignore" },
      );
      children.set(port, child);
      await new Promise<void>((resolve, reject) => {
        child.once("error", (err) =>
          reject(new Error(`cannot start redis-server (is it installed and on PATH?): ${err.message}`)),
        );
        child.once("spawn", () => resolve());
      });
    }
    for (const port of ports) await waitForPing(port, 10_000);
    await run(
      "redis-cli",
      [
        ...["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`)],
        ...["--cluster-replicas", String(replicas), "--cluster-yes"],
      ],
      { timeout: 30_000 },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`,
      );
    });
    await waitForClusterOk(ports, { known: total, masters }, 30_000);
  } catch (err) {
    await close();
    throw err;
  }

  // Masters first: redis-cli may have paired them otherwise than in spawn order.
  const roles = await clusterNodes(ports);
  ports.sort(
    (a, b) =>
      Number(!roles.find((n) => n.port === a)?.master) - Number(!roles.find((n) => n.port === b)?.master),
  );
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  const node = (port: number) => {
    const r = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1 });
    r.on("error", () => {});
    clients.push(r);
    return r;
  };
  return {
    nodes,
    nodesEnv: nodes.join(","),
    ports,
    client: () => {
      const c = new Cluster(
        alive().map((port) => ({ host: "127.0.0.1", port })),
        { redisOptions: { maxRetriesPerRequest: 1 } },
      );
      c.on("error", () => {});
      clients.push(c);
      return c;
    },
    node,
    ownerOf: async (key: string) => {
      const probe = probeNode(alive()[0] as number);
      try {
        const slot = (await probe.cluster("KEYSLOT", key)) as number;
        const ranges = (await probe.cluster("SLOTS")) as unknown as Array<[number, number, [string, number]]>;
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        if (!range) throw new Error(`no node serves slot ${slot}`);
        return range[2][1];
      } finally {
        probe.disconnect();
      }
    },
    replicasOf: async (port: number) => {
      const all = await clusterNodes(alive());
      const master = all.find((n) => n.port === port);
      return all.filter((n) => master && n.masterId === master.id).map((n) => n.port);
    },
    kill,
    waitForFailover: (timeoutMs = 30_000) => waitForClusterOk(alive(), { known: total, masters }, timeoutMs),
    close,
  };
}

/** `CLUSTER NODES` as the first node of `ports` that answers sees it. */
async function clusterNodes(ports: number[]) {
  for (const port of ports) {
    const probe = probeNode(port);
    try {
      return parseClusterNodes((await probe.cluster("NODES")) as string);
    } catch {
      // the next one
    } finally {
      probe.disconnect();
    }
  }
  throw new Error("no node of the cluster answers");
}

/** A free port not handed out before in this cluster (the kernel may offer a just-closed one again). */
async function unusedPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (taken.has(port)) continue;
    taken.add(port);
    return port;
  }
}
