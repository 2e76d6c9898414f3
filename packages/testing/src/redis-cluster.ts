import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort } from "./free-port.ts";

const run = promisify(execFile);

export interface RedisClusterFixture {
  /** `host:port` of every master, as `REDIS_CLUSTER_NODES` takes them. */
  nodes: string[];
  /** The same, comma-separated: the value of `REDIS_CLUSTER_NODES`. */
  nodesEnv: string;
  ports: number[];
  /** A cluster client for a test's own checks (closed by `close`). */
  client(): Cluster;
  /** A plain connection to one node (closed by `close`), e.g. to ask it `CLUSTER KEYSLOT` or `DBSIZE`. */
  node(port: number): Redis;
  /** The port of the master that serves `key`'s slot. */
  ownerOf(key: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * A local Redis Cluster of `masters` (default three) `redis-server --cluster-enabled yes` processes on
 * free ports, no replicas, in a temporary directory; resolves once every node reports
 * `cluster_state:ok` and agrees on the slot map.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), "fusion-redis-cluster-"));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const clients: Array<Redis | Cluster> = [];
  const taken = new Set<number>();

  const close = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < masters; i++) {
      const port = await unusedPort(taken);
      ports.push(port);
      // The cluster bus defaults to port + 10000, which may be taken or above 65535: give it its own.
      const busPort = await unusedPort(taken);
      const child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-port",
          String(busPort),
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout",
          "5000",
          "--dir",
          dir,
          "--appendonly",
          "no",
          "--save",
          "",
        ],
        { stdio: "ignore" },
      );
      children.push(child);
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
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`,
      );
    });
    await waitForClusterOk(ports, 30_000);
  } catch (err) {
    await close();
    throw err;
  }

  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  const node = (port: number) => {
    const r = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1 });
    r.on("error", () => {});
    clients.push(r);
    return r;
  };
  let probe: Redis | undefined;
  return {
    nodes,
    nodesEnv: nodes.join(","),
    ports,
    client: () => {
      const c = new Cluster(
        ports.map((port) => ({ host: "127.0.0.1", port })),
        { redisOptions: { maxRetriesPerRequest: 1 } },
      );
      c.on("error", () => {});
      clients.push(c);
      return c;
    },
    node,
    ownerOf: async (key: string) => {
      probe ??= node(ports[0] as number);
      const slot = (await probe.cluster("KEYSLOT", key)) as number;
      const ranges = (await probe.cluster("SLOTS")) as unknown as Array<[number, number, [string, number]]>;
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no node serves slot ${slot}`);
      return range[2][1];
    },
    close,
  };
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

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis({
      host: "127.0.0.1",
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on("error", () => {});
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch (err) {
      r.disconnect();
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${port} did not answer: ${(err as Error).message}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

/** Every node says `cluster_state:ok` and knows every master: clients then see one consistent slot map. */
async function waitForClusterOk(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const conns = ports.map((port) => {
    const r = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1 });
    r.on("error", () => {});
    return r;
  });
  try {
    for (;;) {
      const infos = await Promise.all(conns.map((c) => c.cluster("INFO").catch(() => "") as Promise<string>));
      const ok = infos.every(
        (info) =>
          info.includes("cluster_state:ok") &&
          info.includes("cluster_slots_assigned:16384") &&
          new RegExp(`cluster_known_nodes:${ports.length}\\b`).test(info),
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`the cluster did not become ok:\n${infos.join("\n---\n")}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    for (const c of conns) c.disconnect();
  }
}
