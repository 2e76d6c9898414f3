import { describe, expect, it } from "vitest";
import type { LookupFn } from "./config.ts";
import {
  checkUrl,
  classifyAddress,
  FetchRefusedError,
  HostResolutionError,
  isAllowedHost,
  isBlockedHostname,
  isPublicAddress,
} from "./ssrf.ts";

const fakeLookup: LookupFn = async (hostname) => {
  const table: Record<string, Array<{ address: string; family: 4 | 6 }>> = {
    "public.example": [{ address: "93.184.216.34", family: 4 }],
    "private.example": [{ address: "10.1.2.3", family: 4 }],
    "mixed.example": [
      { address: "93.184.216.34", family: 4 },
      { address: "192.168.0.7", family: 4 },
    ],
    "v6private.example": [{ address: "fd12:3456::1", family: 6 }],
  };
  const found = table[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  return found;
};

describe("isPublicAddress", () => {
  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
  ])("%s is public", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrierGradeNat"],
    ["169.254.169.254", "linkLocal"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["240.0.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "linkLocal"],
    ["fd00::1", "uniqueLocal"],
    ["fc00::1", "uniqueLocal"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "ipv4Mapped:loopback"],
    ["::ffff:7f00:1", "ipv4Mapped:loopback"],
    ["::ffff:10.0.0.1", "ipv4Mapped:private"],
    ["::ffff:169.254.169.254", "ipv4Mapped:linkLocal"],
    ["64:ff9b::a00:1", "rfc6052:private"],
    ["64:ff9b::7f00:1", "rfc6052:loopback"],
    ["64:ff9b:1::1", "rfc6052"],
    ["2002:7f00:1::1", "6to4:loopback"],
    ["2002:a9fe:a9fe::", "6to4:linkLocal"],
    ["::127.0.0.1", "ipv4Compatible"],
    ["::a00:1", "ipv4Compatible"],
    ["::8.8.8.8", "ipv4Compatible"],
    ["fe80::1%eth0", "linkLocal"],
    ["127.1", "invalid"],
    ["2001::1", "teredo"],
    ["2001:db8::1", "reserved"],
    ["2001:2::1", "benchmarking"],
    ["fec0::1", "deprecatedSiteLocal"],
    ["100::1", "discard"],
    ["4000::1", "reserved"],
    ["not-an-ip", "invalid"],
  ])("%s is not public (%s)", (address, range) => {
    expect(classifyAddress(address)).toBe(range);
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe("isBlockedHostname", () => {
  it.each([
    "localhost",
    "LOCALHOST",
    "localhost.",
    "foo.localhost",
    "metadata.google.internal",
    "metadata",
    "printer.local",
    "db.internal",
  ])("blocks %s", (name) => {
    expect(isBlockedHostname(name)).toBe(true);
  });
  it.each(["example.com", "localhost.example.com", "internal.example.com"])("allows %s", (name) => {
    expect(isBlockedHostname(name)).toBe(false);
  });
});

describe("isAllowedHost", () => {
  it("matches a host with any port, or host:port exactly", () => {
    expect(isAllowedHost(new URL("http://Intranet.Example:8080/x"), ["intranet.example"])).toBe(true);
    expect(isAllowedHost(new URL("http://127.0.0.1:8080/x"), ["127.0.0.1:8080"])).toBe(true);
    expect(isAllowedHost(new URL("http://127.0.0.1:8081/x"), ["127.0.0.1:8080"])).toBe(false);
    expect(isAllowedHost(new URL("http://127.0.0.1/x"), ["127.0.0.1:80"])).toBe(true);
    expect(isAllowedHost(new URL("https://127.0.0.1/x"), ["127.0.0.1:80"])).toBe(false);
    expect(isAllowedHost(new URL("http://localhost./x"), ["localhost"])).toBe(true);
    expect(isAllowedHost(new URL("http://other.example/x"), ["intranet.example"])).toBe(false);
  });

  it("understands IPv6 entries with and without brackets", () => {
    expect(isAllowedHost(new URL("http://[::1]:9000/"), ["[::1]:9000"])).toBe(true);
    expect(isAllowedHost(new URL("http://[::1]:9000/"), ["::1"])).toBe(true);
    expect(isAllowedHost(new URL("http://[::1]:9000/"), ["0:0:0:0:0:0:0:1"])).toBe(true);
    expect(isAllowedHost(new URL("http://[::1]:9000/"), ["[::1]:9001"])).toBe(false);
  });
});

describe("checkUrl", () => {
  const options = { lookup: fakeLookup };

  it("resolves a public name", async () => {
    const checked = await checkUrl("https://public.example/page", options);
    expect(checked.hostname).toBe("public.example");
    expect(checked.addresses).toEqual([{ address: "93.184.216.34", family: 4 }]);
    expect(checked.allowed).toBe(false);
  });

  it("accepts a public IP literal without DNS", async () => {
    const checked = await checkUrl("http://[2606:4700:4700::1111]/", options);
    expect(checked.addresses).toEqual([{ address: "2606:4700:4700::1111", family: 6 }]);
  });

  it.each([
    ["file:///etc/passwd", "scheme_not_allowed"],
    ["http://user:pw@public.example/", "credentials_not_allowed"],
    ["not a url", "invalid_url"],
    ["http://127.0.0.1/", "non_public_address"],
    ["http://localhost/", "blocked_hostname"],
    ["http://private.example/", "non_public_address"],
    ["http://mixed.example/", "non_public_address"],
    ["http://v6private.example/", "non_public_address"],
  ])("refuses %s (%s)", async (url, code) => {
    const error = await checkUrl(url, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchRefusedError);
    expect((error as FetchRefusedError).code).toBe(code);
    expect((error as FetchRefusedError).message).toMatch(/^refused to fetch /);
  });

  it("names the rule a resolved host breaks, never the address it resolves to (issue 11, finding 8)", async () => {
    const error = await checkUrl("http://mixed.example/", options).catch((e: unknown) => e);
    expect((error as FetchRefusedError).message).toBe(
      "refused to fetch http://mixed.example/: mixed.example resolves to a private address",
    );
    expect((error as FetchRefusedError).message).not.toContain("192.168");
    const v6 = await checkUrl("http://v6private.example/", options).catch((e: unknown) => e);
    expect((v6 as FetchRefusedError).message).not.toContain("fd12");
  });

  it("lets allowHosts skip the address and name rules but not the scheme and credential rules", async () => {
    const allowed = { lookup: fakeLookup, allowHosts: ["private.example", "127.0.0.1"] };
    await expect(checkUrl("http://private.example/", allowed)).resolves.toMatchObject({ allowed: true });
    await expect(checkUrl("http://127.0.0.1:1234/", allowed)).resolves.toMatchObject({ allowed: true });
    await expect(checkUrl("http://u:p@private.example/", allowed)).rejects.toThrow(/credentials/);
    await expect(checkUrl("ftp://private.example/", allowed)).rejects.toThrow(/scheme not allowed/);
  });

  it("reports a name that does not resolve", async () => {
    await expect(checkUrl("http://nowhere.example/", options)).rejects.toBeInstanceOf(HostResolutionError);
  });
});
