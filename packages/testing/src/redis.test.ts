import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisFixture, startRedis } from "./redis.ts";

describe("redis fixture", () => {
  let fixture: RedisFixture;
  beforeAll(async () => {
    fixture = await startRedis();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it("gives a Redis that answers commands", async () => {
    const client = new Redis(fixture.url);
    await client.set("fixture:probe", "1");
    expect(await client.get("fixture:probe")).toBe("1");
    await client.del("fixture:probe");
    client.disconnect();
  });
});
