import { describe, expect, it } from "vitest";
import type { LookupFn } from "../config.ts";
import { checkWebhookUrl, WebhookUrlError, webhookUrlProblem } from "./webhook-url.ts";

/** DNS as a table: names not in it do not resolve. */
const dns: Record<string, string[]> = {
  "hooks.example.com": ["93.184.216.34"],
  "internal.example.com": ["10.1.2.3"],
  "rebinder.example.com": ["93.184.216.34", "127.0.0.1"],
  "v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
};
const lookup: LookupFn = async (host) => {
  const addresses = dns[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};
const check = (url: string, allowHosts: string[] = []) => checkWebhookUrl(url, { allowHosts, lookup });

async function refusal(url: string, allowHosts: string[] = []): Promise<WebhookUrlError> {
  const error = await check(url, allowHosts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookUrlError);
  return error as WebhookUrlError;
}

describe("checkWebhookUrl", () => {
  it("accepts an http(s) URL whose host resolves to public addresses, and pins them", async () => {
    const checked = await check("https://hooks.example.com/fusion?x=1");
    expect(checked.addresses).toEqual([{ address: "93.184.216.34", family: 4 }]);
    expect((await check("http://v6.example.com:8080/")).hostname).toBe("v6.example.com");
  });

  it("refuses other schemes, credentials, and URLs over 2,048 characters", async () => {
    expect((await refusal("ftp://hooks.example.com/")).message).toMatch(/http\(s\)/);
    expect((await refusal("https://user:pw@hooks.example.com/")).message).toMatch(/credentials/);
    expect((await refusal(`https://hooks.example.com/${"a".repeat(2030)}`)).message).toMatch(/2048/);
    expect((await refusal("not a url")).message).toMatch(/absolute/);
  });

  it("refuses IP literals, public ones included, and hosts that resolve to a non-public address", async () => {
    expect((await refusal("http://10.0.0.1/")).message).toMatch(/private address/);
    expect((await refusal("http://127.0.0.1:9000/")).message).toMatch(/loopback/);
    expect((await refusal("http://[::1]/")).message).toMatch(/loopback/);
    expect((await refusal("http://93.184.216.34/")).message).toMatch(/not an IP address/);
    expect((await refusal("http://localhost:3000/")).message).toMatch(/local or internal host name/);
    expect((await refusal("https://internal.example.com/")).message).toMatch(/private address/);
    // One non-public address among public ones is enough to refuse (it could be the one connected to).
    expect((await refusal("https://rebinder.example.com/")).message).toMatch(/loopback/);
  });

  it("lets WEBHOOK_ALLOW_HOSTS name internal receivers, by host or by host:port", async () => {
    expect((await check("http://127.0.0.1:9000/hook", ["127.0.0.1:9000"])).allowed).toBe(true);
    expect((await refusal("http://127.0.0.1:9001/hook", ["127.0.0.1:9000"])).message).toMatch(/loopback/);
    expect((await check("https://internal.example.com/", ["internal.example.com"])).allowed).toBe(true);
  });

  it("tells a host that does not resolve from a refusal", async () => {
    const error = await refusal("https://nowhere.example.com/");
    expect(error.kind).toBe("unresolved");
    expect((await refusal("http://10.0.0.1/")).kind).toBe("refused");
  });
});

describe("webhookUrlProblem", () => {
  it("checks a configured default on its face only", () => {
    expect(webhookUrlProblem("https://hooks.example.com/x")).toBeUndefined();
    expect(webhookUrlProblem("http://10.0.0.1/")).toBeUndefined();
    expect(webhookUrlProblem("file:///etc/passwd")).toMatch(/http\(s\)/);
    expect(webhookUrlProblem("https://a:b@hooks.example.com/")).toMatch(/credentials/);
  });
});
