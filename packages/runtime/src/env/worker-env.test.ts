import { describe, expect, it } from "vitest";
import { parseEnv } from "./common-env.ts";
import { workerEnvSchema } from "./worker-env.ts";

describe("the web search settings of a worker", () => {
  it("reads the provider in any case, trims the key, and leaves unset what is empty", () => {
    const env = parseEnv(workerEnvSchema, {
      WEB_SEARCH_PROVIDER: " Brave ",
      WEB_SEARCH_API_KEY: "  key-1  ",
      WEB_SEARCH_URL: "http://proxy:8080/brave/",
      SEARXNG_URL: "",
    });
    expect(env.WEB_SEARCH_PROVIDER).toBe("brave");
    expect(env.WEB_SEARCH_API_KEY).toBe("key-1");
    expect(env.WEB_SEARCH_URL).toBe("http://proxy:8080/brave");
    expect(env.SEARXNG_URL).toBeUndefined();
    const unset = parseEnv(workerEnvSchema, { WEB_SEARCH_API_KEY: " " });
    expect(unset.WEB_SEARCH_PROVIDER).toBeUndefined();
    expect(unset.WEB_SEARCH_API_KEY).toBeUndefined();
  });

  it("stops the start on an unknown provider or a URL that is not one, naming the variable", () => {
    expect(() => parseEnv(workerEnvSchema, { WEB_SEARCH_PROVIDER: "google" })).toThrow(
      'WEB_SEARCH_PROVIDER: must be one of searxng, brave, tavily, exa, openrouter, none, got "google"',
    );
    expect(() => parseEnv(workerEnvSchema, { WEB_SEARCH_URL: "not a url" })).toThrow(
      'WEB_SEARCH_URL: must be a URL, got "not a url"',
    );
    expect(() => parseEnv(workerEnvSchema, { SEARXNG_URL: "http://" })).toThrow(/SEARXNG_URL: must be a URL/);
  });
});
