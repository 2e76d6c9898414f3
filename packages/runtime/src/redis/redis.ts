import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { z } from "zod";
import { defineLuaScripts } from "./lua-script.ts";

export type RedisRole =
  /** BullMQ workers and blocking readers: retry commands forever while Redis is away. */
  | "worker"
  /** Request-path producers and queries: fail fast, never queue commands while offline. */
  | "producer"
  /** Pub/sub subscribers. */
  | "subscriber"
  /**
   * A worker's or relay's plain commands (event appends, cancellation checks, job bookkeeping):
   * like `worker`, plus auto-pipelining on a single Redis, so the commands of one tick share one socket write.
   */
  | "commands";

/** Auto-pipelining batches the commands issued in one tick into one write; not for BullMQ's blocking connections. */
const autoPipelining = (role: RedisRole) => role === "producer" || role === "commands";

export function createRedis(url: string, role: RedisRole, name?: string): Redis {
  const options: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: role === "producer" ? 1 : null,
    enableOfflineQueue: role !== "producer",
    enableAutoPipelining: autoPipelining(role),
    retryStrategy: (times) => Math.min(times * 100, 2000),
    lazyConnect: false,
  };
  const redis = new Redis(url, options);
  defineLuaScripts(redis);
  return redis;
}

/**
 * A connection to a single Redis or to a Redis Cluster. Both speak the same commands, `multi`, Lua
 * scripts (`LuaScript`: `defineCommand`, run by hash) and pub/sub; on a cluster every multi or script
 * must keep its keys in one slot, which the `{hash tag}` of each key family ensures (see `keys.ts` and
 * `QUEUE_PREFIX`).
 */
export type RedisClient = Redis | Cluster;

/** A parsed `REDIS_CLUSTER_NODES`: the seed nodes, and the credentials and TLS every node shares. */
export interface RedisClusterConfig {
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls?: boolean;
}

/**
 * `REDIS_CLUSTER_NODES`: comma-separated seed nodes, each `host:port` (`[::1]:7000` for IPv6) or a
 * `redis://[user:password@]host:port` / `rediss://` URL whose credentials and TLS apply to every node.
 * Unset or empty: undefined (a single Redis at `REDIS_URL`).
 */
export const redisClusterNodesEnv = () =>
  z
    .string()
    .optional()
    .transform((v, ctx): RedisClusterConfig | undefined => {
      const entries = (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (entries.length === 0) return undefined;
      const config: RedisClusterConfig = { nodes: [] };
      for (const entry of entries) {
        const node = parseClusterNode(entry);
        if (typeof node === "string") {
          ctx.addIssue({ code: "custom", message: `${node}, got "${entry}"` });
          return z.NEVER;
        }
        config.nodes.push({ host: node.host, port: node.port });
        if (node.username && !config.username) config.username = node.username;
        if (node.password && !config.password) config.password = node.password;
        if (node.tls) config.tls = true;
      }
      return config;
    });

function parseClusterNode(
  entry: string,
): { host: string; port: number; username?: string; password?: string; tls?: boolean } | string {
  const expected = "each node must be host:port or redis://[user:password@]host:port";
  if (/^[a-z]+:\/\//i.test(entry)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return expected;
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") return expected;
    const port = Number(url.port || 6379);
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (!host) return expected;
    return {
      host,
      port,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === "rediss:" ? { tls: true } : {}),
    };
  }
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$/.exec(entry);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (!host || !Number.isInteger(port) || port < 1 || port > 65_535) return expected;
  return { host, port };
}

/**
 * How long a cluster connection keeps retrying a command whose slot has no live master. When a master
 * dies its slots refuse connections, then answer CLUSTERDOWN, until its replica is promoted:
 * `cluster-node-timeout` (15 s by default) plus an election later. ioredis retries such a command
 * `maxRedirections` times, `retryDelayOnFailover` / `retryDelayOnClusterDown` apart, by default 16 times
 * 100 ms: 1.6 s, after which a worker's event append or job move failed mid-fusion. Every role but the
 * request path's producer (which fails fast: 503) now waits up to a minute, as it does for a single
 * Redis that restarts.
 */
const RIDE_OUT_FAILOVER = { retryDelayOnFailover: 500, retryDelayOnClusterDown: 500, maxRedirections: 120 };

/** A Redis Cluster connection with the behaviour of `role` (see `createRedis`). */
function createRedisCluster(config: RedisClusterConfig, role: RedisRole, name?: string): Cluster {
  const options: ClusterOptions = {
    // Per node: BullMQ requires maxRetriesPerRequest null on the connections its workers block on.
    redisOptions: {
      connectionName: name,
      maxRetriesPerRequest: role === "producer" ? 1 : null,
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      ...(config.tls ? { tls: {} } : {}),
    },
    enableOfflineQueue: role !== "producer",
    // No auto-pipelining on a cluster: ioredis follows a MOVED inside a pipeline only when every
    // failed command got the same reply, and an auto-pipeline mixes the slots of one node, so after a
    // failover its commands failed with "MOVED <slot> …" instead of being redirected.
    enableAutoPipelining: false,
    clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
    ...(role === "producer" ? {} : RIDE_OUT_FAILOVER),
    lazyConnect: false,
    // With TLS the certificates name the hosts: connect by name rather than by resolved address.
    ...(config.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  const cluster = new Cluster(config.nodes, options);
  defineLuaScripts(cluster);
  return cluster;
}

/**
 * The connection every service opens: a Redis Cluster when `REDIS_CLUSTER_NODES` is set (and
 * `REDIS_URL` is then ignored), else the single Redis at `REDIS_URL`.
 */
export function createRedisFromEnv(
  env: { REDIS_URL: string; REDIS_CLUSTER_NODES?: RedisClusterConfig | undefined },
  role: RedisRole,
  name?: string,
): RedisClient {
  return env.REDIS_CLUSTER_NODES
    ? createRedisCluster(env.REDIS_CLUSTER_NODES, role, name)
    : createRedis(env.REDIS_URL, role, name);
}
