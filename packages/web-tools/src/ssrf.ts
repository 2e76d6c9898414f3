import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import type { LookupFn, ResolvedAddress } from "./config.ts";

export type RefusalCode =
  | "invalid_url"
  | "scheme_not_allowed"
  | "credentials_not_allowed"
  | "blocked_hostname"
  | "non_public_address";

/** web_fetch refuses a URL by policy (scheme, credentials, local host name, non-public address). */
export class FetchRefusedError extends Error {
  readonly code: RefusalCode;
  readonly url: string;
  readonly reason: string;

  constructor(code: RefusalCode, url: string, reason: string) {
    super(`refused to fetch ${url}: ${reason}`);
    this.name = "FetchRefusedError";
    this.code = code;
    this.url = url;
    this.reason = reason;
  }
}

/** A host name could not be resolved (not a policy refusal). */
export class HostResolutionError extends Error {
  readonly hostname: string;

  constructor(hostname: string, cause?: unknown) {
    super(`could not resolve host ${hostname}`, { cause });
    this.name = "HostResolutionError";
    this.hostname = hostname;
  }
}

const ALLOWED_SCHEMES = new Set(["http:", "https:"]);

/** Names that never denote a public web host, whatever DNS says. */
const BLOCKED_NAMES = new Set(["localhost", "localhost.localdomain", "metadata", "metadata.google.internal"]);
const BLOCKED_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain"];

const V6_GLOBAL_UNICAST = ipaddr.IPv6.parse("2000::");
const NAT64_WELL_KNOWN = ipaddr.IPv6.parse("64:ff9b::");

/**
 * The WHATWG serialisation of an IPv6 address (hex groups only, zone dropped). ipaddr.js misreads some
 * dotted-quad spellings (it parses `::127.0.0.1` as the IPv4-mapped `::ffff:127.0.0.1`), so every IPv6
 * address is normalised before it is classified.
 */
function canonicalIpv6(address: string): string {
  const host = new URL(`http://[${address.replace(/%.*$/, "")}]/`).hostname;
  return host.slice(1, -1);
}

/** The range an IPv4 address belongs to, `"public"` for ordinary global unicast. */
function ipv4Range(address: ipaddr.IPv4): string {
  const range = address.range();
  return range === "unicast" ? "public" : range;
}

function embeddedIpv4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * Classifies an IP address: `"public"` when a web fetch may connect to it, otherwise the name of the
 * special range (ipaddr.js names, e.g. "loopback", "private", "linkLocal", "uniqueLocal"). IPv6 forms
 * that embed an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4) are judged by the embedded address;
 * other IPv6 space counts as public only inside global unicast 2000::/3 and outside its special blocks.
 */
export function classifyAddress(address: string): string {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const family = isIP(bare.replace(/%.*$/, ""));
  if (family === 4) return ipv4Range(ipaddr.IPv4.parse(bare));
  if (family !== 6) return "invalid";
  const v6 = ipaddr.IPv6.parse(canonicalIpv6(bare));
  const parts = v6.parts;
  const range = v6.range();
  const [p0 = 0, p1 = 0, p2 = 0, , , , p6 = 0, p7 = 0] = parts;
  if (range === "ipv4Mapped" || range === "rfc6145") {
    const inner = ipv4Range(embeddedIpv4(p6, p7));
    return inner === "public" ? "public" : `${range}:${inner}`;
  }
  if (range === "rfc6052") {
    if (!v6.match(NAT64_WELL_KNOWN, 96)) return range; // local-use NAT64 prefix 64:ff9b:1::/48
    const inner = ipv4Range(embeddedIpv4(p6, p7));
    return inner === "public" ? "public" : `${range}:${inner}`;
  }
  if (range === "6to4") {
    const inner = ipv4Range(embeddedIpv4(p1, p2));
    return inner === "public" ? "public" : `${range}:${inner}`;
  }
  if (range !== "unicast") return range;
  // ipaddr.js calls everything outside its special list "unicast", including IPv4-compatible ::a.b.c.d
  // and unassigned space; only 2000::/3 is assigned global unicast.
  if (!v6.match(V6_GLOBAL_UNICAST, 3)) return p0 === 0 ? "ipv4Compatible" : "reserved";
  return "public";
}

/** True when the address is a public unicast address a web fetch may connect to. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === "public";
}

const RANGE_WORDS: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private address",
  linkLocal: "a link-local address",
  uniqueLocal: "a unique-local address",
  unspecified: "an unspecified address",
  carrierGradeNat: "a carrier-grade NAT address",
  multicast: "a multicast address",
  broadcast: "a broadcast address",
  reserved: "a reserved address",
  invalid: "an invalid address",
};

/** "a private address", "a loopback address (IPv4-mapped)" and so on. */
function describeRange(range: string): string {
  const [outer = range, inner] = range.split(":");
  if (inner !== undefined) {
    const words = RANGE_WORDS[inner] ?? `a non-public address (${inner})`;
    return `${words} (embedded in ${outer})`;
  }
  return RANGE_WORDS[outer] ?? `a non-public address (${outer})`;
}

/** True for names such as `localhost`, `*.localhost`, `*.internal`, `metadata.google.internal`. */
export function isBlockedHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, "");
  if (BLOCKED_NAMES.has(name)) return true;
  return BLOCKED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

interface AllowEntry {
  host: string;
  port: string | undefined;
}

function normaliseHost(host: string): string {
  const name = host.toLowerCase().replace(/\.+$/, "");
  if (ipaddr.IPv6.isValid(name)) return ipaddr.IPv6.parse(name).toRFC5952String();
  return name;
}

function parseAllowEntry(raw: string): AllowEntry | undefined {
  const entry = raw.trim().toLowerCase();
  if (!entry) return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: normaliseHost(bracketed[1] ?? ""), port: bracketed[2] };
  const colons = entry.split(":").length - 1;
  if (colons === 1) {
    const [host = "", port = ""] = entry.split(":");
    return { host: normaliseHost(host), port: port || undefined };
  }
  return { host: normaliseHost(entry), port: undefined };
}

/** The host name of a URL without IPv6 brackets. */
function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function effectivePort(url: URL): string {
  if (url.port) return url.port;
  return url.protocol === "https:" ? "443" : "80";
}

/** True when `allowHosts` lists the URL's host (any port) or its `host:port`. */
export function isAllowedHost(url: URL, allowHosts: readonly string[]): boolean {
  if (allowHosts.length === 0) return false;
  const host = normaliseHost(bareHostname(url));
  const port = effectivePort(url);
  return allowHosts.some((raw) => {
    const entry = parseAllowEntry(raw);
    return entry !== undefined && entry.host === host && (entry.port === undefined || entry.port === port);
  });
}

export interface CheckedUrl {
  url: URL;
  /** Host name without IPv6 brackets, as the connector sees it. */
  hostname: string;
  /** The verified addresses the connection may use. */
  addresses: ResolvedAddress[];
  /** True when the host passed because it is listed in `allowHosts`. */
  allowed: boolean;
}

export interface CheckUrlOptions {
  allowHosts?: readonly string[];
  lookup: LookupFn;
}

/**
 * Checks a URL against the fetch policy and resolves its host: http(s) only, no credentials, no local
 * host names, and every resolved address public, unless the host is listed in `allowHosts` (which skips
 * the name and address rules only). Throws FetchRefusedError on a refusal, HostResolutionError when DNS fails.
 */
export async function checkUrl(input: string | URL, options: CheckUrlOptions): Promise<CheckedUrl> {
  const shown = typeof input === "string" ? input : input.href;
  let url: URL;
  try {
    url = typeof input === "string" ? new URL(input) : new URL(input.href);
  } catch {
    throw new FetchRefusedError("invalid_url", shown, "not a valid absolute URL");
  }
  if (!ALLOWED_SCHEMES.has(url.protocol)) {
    throw new FetchRefusedError(
      "scheme_not_allowed",
      shown,
      `scheme not allowed (${url.protocol}); only http and https`,
    );
  }
  if (url.username || url.password) {
    throw new FetchRefusedError("credentials_not_allowed", shown, "URLs with credentials are not allowed");
  }
  const hostname = bareHostname(url);
  const allowed = isAllowedHost(url, options.allowHosts ?? []);
  const family = isIP(hostname);
  if (family === 4 || family === 6) {
    const range = classifyAddress(hostname);
    if (!allowed && range !== "public") {
      throw new FetchRefusedError("non_public_address", shown, `${hostname} is ${describeRange(range)}`);
    }
    return { url, hostname, addresses: [{ address: hostname, family }], allowed };
  }
  if (!allowed && isBlockedHostname(hostname)) {
    throw new FetchRefusedError("blocked_hostname", shown, `${hostname} is a local or internal host name`);
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await options.lookup(hostname);
  } catch (error) {
    throw new HostResolutionError(hostname, error);
  }
  if (addresses.length === 0) throw new HostResolutionError(hostname);
  if (!allowed) {
    // The refusal names the rule, never the address: the model and the caller must not learn internal DNS.
    for (const { address } of addresses) {
      const range = classifyAddress(address);
      if (range !== "public") {
        throw new FetchRefusedError(
          "non_public_address",
          shown,
          `${hostname} resolves to ${describeRange(range)}`,
        );
      }
    }
  }
  return { url, hostname, addresses, allowed };
}
