/**
 * Redis Cluster's key-to-slot mapping: CRC16 (XMODEM: polynomial 0x1021, initial value 0) of the key's
 * hash tag, or of the whole key when it has none, modulo 16384.
 */
export const CLUSTER_SLOTS = 16_384;

const table = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    t[i] = crc & 0xffff;
  }
  return t;
})();

export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, "utf8"))
    crc = ((crc << 8) ^ (table[((crc >> 8) ^ byte) & 0xff] ?? 0)) & 0xffff;
  return crc;
}

/**
 * Where the hash tag of `key` is, by Redis's rule: the text between the first `{` and the first `}`
 * after it, when that text is not empty; undefined when the key has no tag (the whole key is hashed).
 */
export function hashTagSpan(key: string): { start: number; end: number } | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  if (close <= open + 1) return undefined;
  return { start: open + 1, end: close };
}

/** The cluster slot of `key` (what `CLUSTER KEYSLOT key` answers). */
export function hashSlot(key: string): number {
  const span = hashTagSpan(key);
  return crc16(span ? key.slice(span.start, span.end) : key) % CLUSTER_SLOTS;
}
