import { describe, expect, it } from "vitest";
import { CLUSTER_SLOTS, crc16, hashSlot, hashTagSpan } from "./hash-slot.ts";

describe("hashSlot", () => {
  it("is CRC16/XMODEM modulo 16384, as Redis Cluster computes it", () => {
    // The check value of CRC16/XMODEM, and the slots the Redis Cluster spec and CLUSTER KEYSLOT give.
    expect(crc16("123456789")).toBe(0x31c3);
    expect(hashSlot("123456789")).toBe(0x31c3 % CLUSTER_SLOTS);
    expect(hashSlot("foo")).toBe(12182);
    expect(hashSlot("bar")).toBe(5061);
    expect(hashSlot("")).toBe(0);
  });

  it("hashes a key's UTF-8 bytes, as the bit-by-bit definition does", () => {
    for (const text of ["é", "fusion-ü-1", "gen-fusion-mdx2k3f9a1b2c3d4e5f6a7b8c9d0", "日本"]) {
      expect(crc16(text)).toBe(bitwiseCrc16(Buffer.from(text, "utf8")));
    }
  });

  it("hashes only the tag: the text between the first { and the next }, when not empty", () => {
    expect(hashSlot("{user1000}.following")).toBe(hashSlot("{user1000}.followers"));
    expect(hashSlot("{fusion}:panel:1")).toBe(hashSlot("fusion"));
    expect(hashSlot("foo{bar}{zap}")).toBe(hashSlot("bar"));
    expect(hashSlot("foo{{bar}}zap")).toBe(hashSlot("{bar"));
    // An empty first tag means no tag: the whole key is hashed.
    expect(hashTagSpan("foo{}{bar}")).toBeUndefined();
    expect(hashSlot("foo{}{bar}")).toBe(crc16("foo{}{bar}") % CLUSTER_SLOTS);
    expect(hashTagSpan("no tag")).toBeUndefined();
    expect(hashTagSpan("{open")).toBeUndefined();
    expect(hashTagSpan("a{b}")).toEqual({ start: 2, end: 3 });
  });
});

/** CRC16/XMODEM one bit at a time, from its definition (polynomial 0x1021, initial value 0, no reflection). */
function bitwiseCrc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = (crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1) & 0xffff;
  }
  return crc;
}
