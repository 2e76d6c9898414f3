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
});
