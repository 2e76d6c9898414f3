import { Redis } from "ioredis";

/** One line of `CLUSTER NODES`: the node's port, its role, the master it replicates and its flags. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  master: boolean;
  /** The id of the master a replica follows. */
  masterId?: string;
  /** `fail` or `fail?`: the node is (thought to be) down. */
  failing: boolean;
  /** Slot ranges it serves (masters only). */
  slots: string[];
}

export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => {
      const [id = "", address = "", flags = "", masterId = "-", , , , , ...slots] = line.trim().split(" ");
      const port = Number(/:(\d+)(?:@|$)/.exec(address)?.[1]);
      const flagList = flags.split(",");
      return {
        id,
        port,
        master: flagList.includes("master"),
        ...(masterId !== "-" ? { masterId } : {}),
        failing: flagList.includes("fail") || flagList.includes("fail?"),
        slots,
      };
    });
}

/** A short-lived connection to one node that gives up at once when the node is down. */
export function probeNode(port: number): Redis {
  const r = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on("error", () => {});
  return r;
}

export async function waitForPing(port: number, timeoutMs: number): Promise<void> {
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

/**
 * Every node in `ports` says `cluster_state:ok`, knows `known` nodes and sees `masters` masters
 * serving slots, none failing, and every replica's link to its master is up: clients then see one
 * consistent slot map, and a replica holds its master's data.
 */
export async function waitForClusterOk(
  ports: number[],
  expected: { known: number; masters: number },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const conns = ports.map(probeNode);
  try {
    for (;;) {
      const states = await Promise.all(
        conns.map(async (c) => {
          const info = (await c.cluster("INFO").catch(() => "")) as string;
          const nodes = parseClusterNodes((await c.cluster("NODES").catch(() => "")) as string);
          const replication = await c.info("replication").catch(() => "");
          return { info, nodes, replication };
        }),
      );
      const ok = states.every(
        ({ info, nodes, replication }) =>
          info.includes("cluster_state:ok") &&
          info.includes("cluster_slots_assigned:16384") &&
          new RegExp(`cluster_known_nodes:${expected.known}\\b`).test(info) &&
          nodes.filter((n) => n.master && !n.failing && n.slots.length > 0).length === expected.masters &&
          (replication.includes("role:master") || replication.includes("master_link_status:up")),
      );
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`the cluster did not become ok:\n${states.map((s) => s.info).join("\n---\n")}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    for (const c of conns) c.disconnect();
  }
}
