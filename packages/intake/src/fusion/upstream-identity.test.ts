import type { FusionConfig } from "@fusion/llm-client";
import { commonEnvSchema, parseEnv } from "@fusion/runtime";
import { describe, expect, it } from "vitest";
import { upstreamIdentity } from "./upstream-identity.ts";

describe("upstreamIdentity", () => {
  it("names the one upstream by its host and keeps its key and URL credentials secret", () => {
    const env = parseEnv(commonEnvSchema, {
      UPSTREAM_BASE_URL: "https://user:p%40ss@llm.example.com/v1",
      UPSTREAM_API_KEY: "sk-up-secret",
    });
    const identity = upstreamIdentity(env, undefined);
    expect(identity.nameFor("any/model")).toBe("upstream llm.example.com");
    expect([...identity.secrets].sort()).toEqual(["p@ss", "sk-up-secret", "user"]);
  });

  it("names a provider of the file by its name, never its address, and keeps every credential secret", () => {
    const config: FusionConfig = {
      path: "providers.yaml",
      providers: {
        gpu: { name: "gpu", baseUrl: "http://10.0.0.5:8000/v1", apiKey: "sk-gpu", headers: {} },
        cloud: {
          name: "cloud",
          baseUrl: "https://cloud.example.com/v1",
          headers: { Authorization: "Bearer sk-cloud", "X-Title": "fusion" },
        },
      },
      routes: [
        { match: "gpu/*", provider: "gpu" },
        { match: "*", provider: "cloud" },
      ],
      presets: {},
    };
    const identity = upstreamIdentity(parseEnv(commonEnvSchema, {}), config);
    expect(identity.nameFor("gpu/llama")).toBe("provider gpu");
    expect(identity.nameFor("openai/gpt-5")).toBe("provider cloud");
    expect(identity.secrets).toEqual(expect.arrayContaining(["sk-gpu", "Bearer sk-cloud", "sk-cloud"]));
    expect(identity.secrets).not.toContain("fusion");
  });
});
