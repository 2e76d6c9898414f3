import type { Cluster } from "ioredis";
import { describe, expect, it } from "vitest";
import { ConfigError, commonEnvSchema, parseEnv } from "../env/common-env.ts";
import { createRedisFromEnv, type RedisRole } from "./redis.ts";

const parse = (REDIS_CLUSTER_NODES: string | undefined) =>
  parseEnv(commonEnvSchema, REDIS_CLUSTER_NODES === undefined ? {} : { REDIS_CLUSTER_NODES });

describe("REDIS_CLUSTER_NODES", () => {
  it("is off when unset or empty: the services use REDIS_URL", () => {
    expect(parse(undefined).REDIS_CLUSTER_NODES).toBeUndefined();
    expect(parse(" , ").REDIS_CLUSTER_NODES).toBeUndefined();
    expect(parse(undefined).REDIS_URL).toBe("redis://127.0.0.1:6379");
  });

  it("takes host:port seed nodes, IPv6 in brackets, spaces around commas", () => {
    expect(parse("10.0.0.1:7000, redis-b:7001 ,[::1]:7002").REDIS_CLUSTER_NODES).toEqual({
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "redis-b", port: 7001 },
        { host: "::1", port: 7002 },
      ],
    });
  });

  it("takes redis:// and rediss:// URLs whose credentials and TLS apply to every node", () => {
    expect(
      parse("rediss://app:s%3Dcret@a.example:6380,b.example:6380,redis://c.example").REDIS_CLUSTER_NODES,
    ).toEqual({
      nodes: [
        { host: "a.example", port: 6380 },
        { host: "b.example", port: 6380 },
        { host: "c.example", port: 6379 },
      ],
      username: "app",
      password: "s=cret",
      tls: true,
    });
  });

  it("refuses anything else at start-up, naming the variable and the entry", () => {
    for (const bad of ["localhost", "host:", ":7000", "host:70000", "host:7000:1", "http://host:7000"]) {
      expect(() => parse(`127.0.0.1:7000,${bad}`), bad).toThrow(ConfigError);
      expect(() => parse(`127.0.0.1:7000,${bad}`), bad).toThrow(
        new RegExp(
          `REDIS_CLUSTER_NODES: each node must be host:port.*got "${bad.replace(/[.:/]/g, "\\$&")}"`,
        ),
      );
    }
  });
});

describe("cluster connections during a failover", () => {
  it("keep retrying a slot without a master for a minute, except the request path's, which fails fast", () => {
    const env = { REDIS_URL: "", REDIS_CLUSTER_NODES: { nodes: [{ host: "127.0.0.1", port: 1 }] } };
    const expected: Array<[RedisRole, number]> = [
      ["producer", 16 * 100],
      ["worker", 120 * 500],
      ["commands", 120 * 500],
      ["subscriber", 120 * 500],
    ];
    for (const [role, patienceMs] of expected) {
      const cluster = createRedisFromEnv(env, role) as Cluster;
      cluster.on("error", () => {});
      const { maxRedirections, retryDelayOnFailover, retryDelayOnClusterDown, enableAutoPipelining } =
        cluster.options;
      cluster.disconnect();
      // A MOVED inside an auto-pipeline of mixed slots is not followed (see createRedisCluster).
      expect(enableAutoPipelining, role).toBe(false);
      expect(retryDelayOnFailover, role).toBe(retryDelayOnClusterDown);
      expect((maxRedirections ?? 0) * (retryDelayOnFailover ?? 0), role).toBe(patienceMs);
    }
  });
});
