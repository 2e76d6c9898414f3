import { randomBytes } from "node:crypto";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LuaScript } from "./lua-script.ts";
import { createRedis } from "./redis.ts";

let fixture: RedisFixture;
let redis: Redis;
let check: Redis;

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "commands", "test:lua");
  check = createRedis(fixture.url, "worker", "test:lua:check");
});
afterAll(async () => {
  redis?.disconnect();
  check?.disconnect();
  await fixture?.close();
});

/** A script of the lease renewer, as an example: extends the leases that still exist. */
const renew = new LuaScript<[key: string, leaseMs: number, ...ids: string[]], number>(
  "fusionTestRenewLeases",
  new URL("../leases/renew-leases.lua", import.meta.url),
  1,
);

describe("LuaScript", () => {
  it("is read from its file and runs by hash, loading itself again after a SCRIPT FLUSH", async () => {
    const key = `{lua-${randomBytes(4).toString("hex")}}:leases`;
    expect(renew.lua).toContain("ZADD");
    await check.zadd(key, 1, "a");
    expect(await renew.run(redis, key, 5_000, "a", "missing")).toBe(1);
    expect(Number(await check.zscore(key, "a"))).toBeGreaterThan(Date.now());
    expect(await check.zscore(key, "missing")).toBeNull();

    // From then on it is called by its SHA1, not sent whole.
    await check.config("RESETSTAT");
    await renew.run(redis, key, 5_000, "a");
    await renew.run(redis, key, 5_000, "a");
    const stats = (await check.info("commandstats")).split("\r\n");
    expect(stats.find((l) => l.startsWith("cmdstat_evalsha:"))).toMatch(/calls=2,/);
    expect(stats.find((l) => l.startsWith("cmdstat_eval:"))).toBeUndefined();

    // Redis forgot every script (a restart, a failover): the next call sends it again.
    await check.script("FLUSH");
    expect(await renew.run(redis, key, 5_000, "a")).toBe(1);
  });

  it("runs in the same tick as other commands on an auto-pipelining connection", async () => {
    // The connection's first commands share one auto-pipeline with the script's first call.
    const pipelined = createRedis(fixture.url, "commands", "test:lua:pipelined");
    try {
      const key = `{lua-${randomBytes(4).toString("hex")}}:leases`;
      const [pong, renewed] = await Promise.all([pipelined.ping(), renew.run(pipelined, key, 5_000, "a")]);
      expect([pong, renewed]).toEqual(["PONG", 1]);
    } finally {
      pipelined.disconnect();
    }
  });
});
