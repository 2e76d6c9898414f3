import { describe, expect, it } from "vitest";
import { newFusionId } from "../ids.ts";
import { CLUSTER_SLOTS, hashSlot } from "../redis/hash-slot.ts";
import { keys } from "../redis/keys.ts";
import { MAX_QUEUE_SHARDS, queueShards, servedShards, shardOfFusion, slotRange } from "./queue-shards.ts";

describe("queueShards", () => {
  it("is exactly the unsharded layout with one shard", () => {
    expect(queueShards("{fusion}", 1)).toEqual([
      { index: 0, prefix: "{fusion}", slot: hashSlot("fusion"), range: 0 },
    ]);
    expect(queueShards("app:{tenant-a}:q", 1)[0]?.prefix).toBe("app:{tenant-a}:q");
  });

  it("keeps the prefix for shard 0 and gives every part of the slot space exactly one shard", () => {
    for (const base of ["{fusion}", "{fusion-1a2b3c4d}", "app:{x}:q"]) {
      for (const n of [2, 3, 4, 5, 7, 16, MAX_QUEUE_SHARDS]) {
        const shards = queueShards(base, n);
        expect(shards).toHaveLength(n);
        expect(shards.map((s) => s.index)).toEqual([...Array(n).keys()]);
        expect(shards[0]?.prefix).toBe(base);
        expect(new Set(shards.map((s) => s.range)).size).toBe(n);
        expect(new Set(shards.map((s) => s.prefix)).size).toBe(n);
        for (const shard of shards) {
          // A shard's BullMQ keys all hash to its slot, which lies in its part of the slot space.
          expect(hashSlot(`${shard.prefix}:panel:gen-fusion-x-panel-0`)).toBe(shard.slot);
          expect(slotRange(shard.slot, n)).toBe(shard.range);
        }
      }
    }
  });

  it("puts every other shard in the middle half of its part, with the prefix's tag and a suffix", () => {
    const n = 3;
    const shards = queueShards("{fusion}", n);
    for (const shard of shards.slice(1)) {
      expect(shard.prefix).toMatch(/^\{fusion-\d+\}$/);
      const position = (shard.slot * n) / CLUSTER_SLOTS - shard.range;
      expect(position).toBeGreaterThanOrEqual(0.25);
      expect(position).toBeLessThan(0.75);
    }
    // The other parts go in order, after shard 0 took the prefix's own.
    const others = shards.slice(1).map((s) => s.range);
    expect(others).toEqual([...others].sort((a, b) => a - b));
    // Three shards on a three-master cluster created by redis-cli: 0-5460, 5461-10922, 10923-16383.
    const masters = [
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ] as const;
    const owners = shards.map((s) => masters.findIndex(([lo, hi]) => s.slot >= lo && s.slot <= hi));
    expect(new Set(owners).size).toBe(3);
  });

  it("is the same in every process (a pure function of the prefix and the count)", () => {
    expect(queueShards("{fusion}", 5)).toEqual(queueShards("{fusion}", 5));
    expect(queueShards("{fusion}", 3).map((s) => s.prefix)).toEqual([
      "{fusion}",
      "{fusion-20}",
      "{fusion-3}",
    ]);
  });

  it("refuses a count out of bounds and a prefix without a hash tag", () => {
    for (const n of [0, -1, 1.5, MAX_QUEUE_SHARDS + 1, Number.NaN])
      expect(() => queueShards("{f}", n)).toThrow(RangeError);
    expect(() => queueShards("fusion", 2)).toThrow(/hash tag/);
    expect(() => queueShards("a{}{b}", 2)).toThrow(/hash tag/);
  });
});

describe("shardOfFusion", () => {
  it("picks the shard whose part of the slot space holds the fusion's own keys", () => {
    const shards = queueShards("{fusion}", 3);
    for (let i = 0; i < 50; i++) {
      const id = newFusionId();
      const shard = shardOfFusion(shards, id);
      expect(shard.range).toBe(slotRange(hashSlot(keys.events(id)), 3));
      expect(shardOfFusion(shards, id)).toBe(shard);
    }
  });

  it("spreads random fusion ids evenly over the shards", () => {
    for (const n of [2, 3, 8]) {
      const shards = queueShards("{fusion}", n);
      const counts = new Array<number>(n).fill(0);
      const total = 6000;
      for (let i = 0; i < total; i++) {
        const { index } = shardOfFusion(shards, newFusionId());
        counts[index] = (counts[index] ?? 0) + 1;
      }
      for (const c of counts) {
        expect(c).toBeGreaterThan((total / n) * 0.8);
        expect(c).toBeLessThan((total / n) * 1.2);
      }
    }
  });

  it("is shard 0 for every fusion with one shard", () => {
    const shards = queueShards("{fusion}", 1);
    for (let i = 0; i < 20; i++) expect(shardOfFusion(shards, newFusionId()).index).toBe(0);
  });
});

describe("servedShards", () => {
  const shards = queueShards("{fusion}", 4);
  it("serves every shard when none is listed, else those listed", () => {
    expect(servedShards(shards, undefined)).toEqual(shards);
    expect(servedShards(shards, [])).toEqual(shards);
    expect(servedShards(shards, [0, 2]).map((s) => s.prefix)).toEqual([shards[0]?.prefix, shards[2]?.prefix]);
  });

  it("refuses a shard that does not exist", () => {
    expect(() => servedShards(shards, [1, 4])).toThrow(/shard 4 does not exist: there are 4 \(0 to 3\)/);
  });
});
