import { FusionError } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { webhookConfigProblems } from "./webhook-config.ts";
import { webhookTarget } from "./webhook-target.ts";

const secret = `whsec_${Buffer.alloc(24, 1).toString("base64")}`;
const env: Parameters<typeof webhookTarget>[1] = {
  WEBHOOK_URL: undefined,
  WEBHOOK_SECRET: secret,
  WEBHOOK_ALLOW_HOSTS: ["127.0.0.1:9000"],
};
const lookup = async (host: string) => {
  if (host === "hooks.example.com") return [{ address: "93.184.216.34", family: 4 as const }];
  if (host === "inside.example.com") return [{ address: "192.168.1.5", family: 4 as const }];
  throw new Error(`ENOTFOUND ${host}`);
};

async function status400(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FusionError);
  expect((error as FusionError).status).toBe(400);
  return (error as FusionError).message;
}

describe("webhookTarget", () => {
  it("takes the request's URL, else the deployment's default; false or null turn both off", async () => {
    const url = "https://hooks.example.com/fusions";
    expect(await webhookTarget({ webhook: { url } }, env, lookup)).toBe(url);
    expect(await webhookTarget({}, env, lookup)).toBeUndefined();
    expect(await webhookTarget(undefined, { ...env, WEBHOOK_URL: url }, lookup)).toBe(url);
    expect(await webhookTarget({ webhook: false }, { ...env, WEBHOOK_URL: url }, lookup)).toBeUndefined();
    expect(await webhookTarget({ webhook: null }, { ...env, WEBHOOK_URL: url }, lookup)).toBeUndefined();
    expect(await webhookTarget({ webhook: { url: "http://127.0.0.1:9000/in" } }, env, lookup)).toBe(
      "http://127.0.0.1:9000/in",
    );
  });

  it("refuses (400) private and literal addresses, local names, and any webhook without a secret", async () => {
    const ask = (url: string, e = env) => webhookTarget({ webhook: { url } }, e, lookup);
    expect(await status400(ask("http://10.0.0.1/"))).toMatch(/fusion\.webhook\.url: .*private address/);
    expect(await status400(ask("https://inside.example.com/"))).toMatch(/resolves to a private address/);
    expect(await status400(ask("http://localhost:9000/"))).toMatch(/local or internal host name/);
    expect(await status400(ask("http://127.0.0.1:9001/"))).toMatch(/loopback/);
    expect(await status400(ask("https://u:p@hooks.example.com/"))).toMatch(/credentials/);
    expect(await status400(ask("https://hooks.example.com/", { ...env, WEBHOOK_SECRET: undefined }))).toMatch(
      /WEBHOOK_SECRET/,
    );
    const deployment = { ...env, WEBHOOK_URL: "http://10.9.9.9/" };
    expect(await status400(webhookTarget({}, deployment, lookup))).toMatch(/WEBHOOK_URL: .*private/);
  });
});

describe("webhookConfigProblems", () => {
  it("needs WEBHOOK_SECRET beside WEBHOOK_URL, and an http(s) URL", () => {
    expect(webhookConfigProblems({ WEBHOOK_URL: undefined, WEBHOOK_SECRET: undefined })).toEqual([]);
    expect(webhookConfigProblems({ WEBHOOK_URL: "https://h.example/", WEBHOOK_SECRET: secret })).toEqual([]);
    expect(webhookConfigProblems({ WEBHOOK_URL: "https://h.example/", WEBHOOK_SECRET: undefined })).toEqual([
      ["WEBHOOK_SECRET", expect.stringMatching(/must be set/)],
    ]);
    expect(webhookConfigProblems({ WEBHOOK_URL: "ftp://h.example/", WEBHOOK_SECRET: secret })).toEqual([
      ["WEBHOOK_URL", expect.stringMatching(/http/)],
    ]);
  });
});
