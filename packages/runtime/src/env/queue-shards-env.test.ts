import { describe, expect, it } from "vitest";
import { z } from "zod";
import { shardsServed } from "../worker-runtime.ts";
import { ConfigError, parseEnv } from "./common-env.ts";
import { queueShardsSchema, queueShardsServedSchema } from "./queue-shards-env.ts";
import { queuePrefixSchema } from "./worker-env.ts";

const schema = z.object({
  QUEUE_PREFIX: queuePrefixSchema,
  QUEUE_SHARDS: queueShardsSchema,
  QUEUE_SHARDS_SERVED: queueShardsServedSchema,
});
const parse = (env: Record<string, string>) => parseEnv(schema, env);

describe("QUEUE_SHARDS and QUEUE_SHARDS_SERVED", () => {
  it("default to one shard, served whole", () => {
    expect(parse({})).toEqual({ QUEUE_PREFIX: "{fusion}", QUEUE_SHARDS: 1, QUEUE_SHARDS_SERVED: undefined });
    expect(parse({ QUEUE_SHARDS: " ", QUEUE_SHARDS_SERVED: "" }).QUEUE_SHARDS).toBe(1);
  });

  it("take a whole number of shards from 1 to 64, digits only", () => {
    expect(parse({ QUEUE_SHARDS: "3" }).QUEUE_SHARDS).toBe(3);
    expect(parse({ QUEUE_SHARDS: " 64 " }).QUEUE_SHARDS).toBe(64);
    for (const bad of ["0", "65", "-1", "2.5", "1e1", "0x3", "three", "3 shards"])
      expect(() => parse({ QUEUE_SHARDS: bad }), bad).toThrow(
        /QUEUE_SHARDS: must be a whole number from 1 to 64/,
      );
  });

  it("take the served shards as distinct indexes", () => {
    expect(parse({ QUEUE_SHARDS_SERVED: "0,2" }).QUEUE_SHARDS_SERVED).toEqual([0, 2]);
    expect(parse({ QUEUE_SHARDS_SERVED: " 1 , 0 " }).QUEUE_SHARDS_SERVED).toEqual([1, 0]);
    expect(() => parse({ QUEUE_SHARDS_SERVED: "0,0" })).toThrow(/QUEUE_SHARDS_SERVED: "0" is listed twice/);
    for (const bad of ["-1", "a", "1,,2", "64", "1.0"])
      expect(() => parse({ QUEUE_SHARDS_SERVED: bad }), bad).toThrow(
        /QUEUE_SHARDS_SERVED: .* is not a shard index/,
      );
  });

  it("refuses a served shard beyond QUEUE_SHARDS, naming the variable", () => {
    const env = parse({ QUEUE_SHARDS: "3", QUEUE_SHARDS_SERVED: "2,3" });
    expect(() => shardsServed(env)).toThrow(ConfigError);
    expect(() => shardsServed(env)).toThrow(/QUEUE_SHARDS_SERVED: shard 3 does not exist: there are 3/);
    expect(shardsServed(parse({ QUEUE_SHARDS: "3", QUEUE_SHARDS_SERVED: "2" })).map((s) => s.index)).toEqual([
      2,
    ]);
    expect(shardsServed(parse({ QUEUE_SHARDS: "3" })).map((s) => s.index)).toEqual([0, 1, 2]);
  });

  it("needs a hash tag in the queue prefix by Redis's rule", () => {
    expect(() => parse({ QUEUE_PREFIX: "a{}{b}" })).toThrow(/QUEUE_PREFIX: must contain a hash tag/);
    expect(parse({ QUEUE_PREFIX: "app:{b}" }).QUEUE_PREFIX).toBe("app:{b}");
  });
});
