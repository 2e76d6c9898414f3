import { parseEnv } from "@fusion/runtime";
import { describe, expect, it } from "vitest";
import { gatewayEnvSchema } from "./env.ts";

describe("gateway environment", () => {
  it("takes API keys that are bearer tokens", () => {
    const env = parseEnv(gatewayEnvSchema, { GATEWAY_API_KEYS: "sk-one, abc.DEF_~+/9==" });
    expect(env.GATEWAY_API_KEYS).toEqual(["sk-one", "abc.DEF_~+/9=="]);
  });

  it("refuses at start-up a key no client could send, naming the variable", () => {
    expect(() => parseEnv(gatewayEnvSchema, { GATEWAY_API_KEYS: "good-key,bad key!" })).toThrow(
      /GATEWAY_API_KEYS: each key must be a bearer token/,
    );
  });

  it("is safe by default: loopback, open only there, bounded slow clients and connections", () => {
    const env = parseEnv(gatewayEnvSchema, {});
    expect(env).toMatchObject({
      HOST: "127.0.0.1",
      ALLOW_UNAUTHENTICATED: false,
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 60_000,
      MAX_CONNECTIONS: 4096,
    });
    expect(env.OWNER_ID_SECRET).toBeUndefined();
  });

  it("remembers Idempotency-Keys for a day by default, for at most a week", () => {
    const env = parseEnv(gatewayEnvSchema, {});
    expect(env).toMatchObject({ IDEMPOTENCY_TTL_MS: 86_400_000, IDEMPOTENT_RESUME_GRACE_MS: 60_000 });
    expect(parseEnv(gatewayEnvSchema, { IDEMPOTENCY_TTL_MS: "604800000" }).IDEMPOTENCY_TTL_MS).toBe(
      604_800_000,
    );
    expect(() => parseEnv(gatewayEnvSchema, { IDEMPOTENCY_TTL_MS: "604800001" })).toThrow(
      /IDEMPOTENCY_TTL_MS/,
    );
  });
});
