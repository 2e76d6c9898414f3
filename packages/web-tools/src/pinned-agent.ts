import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { Agent } from "undici";
import type { ResolvedAddress } from "./config.ts";

/**
 * An undici Agent whose sockets connect only to addresses verified beforehand: its `connect.lookup`
 * answers from `pins` (host name → checked addresses) and never asks DNS, so a host cannot rebind to
 * another address between the check and the connection. A host without a pin fails to connect.
 * The URL keeps the host name, so the Host header and TLS SNI/certificate checks use the name.
 */
export function createPinnedAgent(pins: ReadonlyMap<string, ResolvedAddress[]>): Agent {
  const lookup: LookupFunction = (hostname, options, callback) => {
    const key = (hostname.startsWith("[") ? hostname.slice(1, -1) : hostname).toLowerCase();
    const pinned = pins.get(key) ?? [];
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    const addresses: LookupAddress[] = pinned
      .filter((a) => wanted === undefined || a.family === wanted)
      .map((a) => ({ address: a.address, family: a.family }));
    const first = addresses[0];
    if (first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no verified address for ${hostname}`);
      error.code = "ENOTFOUND";
      process.nextTick(() => callback(error, ""));
      return;
    }
    if (options.all) process.nextTick(() => callback(null, addresses));
    else process.nextTick(() => callback(null, first.address, first.family));
  };
  return new Agent({ connect: { lookup } });
}
