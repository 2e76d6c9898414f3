import { useSimulator } from "@fusion/simulator/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError } from "../upstream/errors.ts";
import type { FusionConfig } from "./config.ts";
import { ProviderRouter } from "./router.ts";

const messages = [{ role: "user", content: "Say hello." }];

const cloud = useSimulator();
const local = useSimulator();
let router: ProviderRouter;

beforeAll(() => {
  const config: Pick<FusionConfig, "providers" | "routes"> = {
    providers: {
      cloud: {
        name: "cloud",
        baseUrl: `${cloud.url}/api/v1`,
        apiKey: "sk-cloud",
        headers: { "X-Title": "Fusion", "HTTP-Referer": "https://fusion.example" },
        // The simulator speaks OpenRouter's dialect; its 127.0.0.1 URL alone would say generic.
        dialect: "openrouter",
      },
      local: {
        name: "local",
        baseUrl: `${local.url}/v1`,
        headers: { "X-Gpu": "box-1" },
        stripPrefix: "local/",
        modelMap: { "local/big": "llama3:70b" },
      },
      // An OpenAI-style server that rejects OpenRouter's own fields.
      strict: {
        name: "strict",
        baseUrl: local.url,
        headers: {},
        stripPrefix: "strict/",
        dropFields: ["plugins", "provider", "transforms"],
      },
    },
    routes: [
      { match: "local/*", provider: "local" },
      { match: "strict/*", provider: "strict" },
      { match: "ollama/*", provider: "local", stripPrefix: "ollama/" },
      { match: "~*", provider: "cloud" },
      { match: "openai/*", provider: "cloud" },
    ],
  };
  router = new ProviderRouter({ config, defaults: { maxRetries: 0 } });
});

afterAll(async () => {
  await router?.close();
});

describe("ProviderRouter", () => {
  it("sends each call to the provider of the first matching route, with its key and headers", async () => {
    await router.complete({ model: "~openai/gpt-latest", messages });
    await router.complete({ model: "local/llama3", messages });
    const [toCloud] = cloud.state.listRequests({ model: "~openai/gpt-latest" });
    expect(toCloud?.path).toBe("/api/v1/chat/completions");
    expect(toCloud?.headers).toMatchObject({
      authorization: "Bearer sk-cloud",
      "x-title": "Fusion",
      "http-referer": "https://fusion.example",
    });
    expect(toCloud?.headers["x-gpu"]).toBeUndefined();
    const [toLocal] = local.state.listRequests({ model: "llama3" });
    expect(toLocal?.path).toBe("/v1/chat/completions");
    expect(toLocal?.headers["x-gpu"]).toBe("box-1");
    expect(toLocal?.headers.authorization).toBeUndefined();
    expect(cloud.state.listRequests({ model: "llama3" })).toEqual([]);
  });

  it("rewrites the slug for the provider on every method, and keeps per-call headers", async () => {
    const { turn } = await router.complete({ model: "local/big", messages });
    expect(turn.content).toBeTruthy();
    const chunks = [];
    for await (const chunk of router.stream({ model: "ollama/qwen3", messages })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(0);
    const texts: string[] = [];
    const streamed = await router.streamTurn(
      { model: "local/mistral", messages },
      { headers: { "x-openrouter-fusion-depth": "1" }, onText: (t) => texts.push(t) },
    );
    expect(streamed.content).toBe(texts.join(""));
    expect(local.state.listRequests({ model: "llama3:70b" })).toHaveLength(1);
    expect(local.state.listRequests({ model: "qwen3" })).toHaveLength(1);
    const [mistral] = local.state.listRequests({ model: "mistral" });
    expect(mistral?.stream).toBe(true);
    expect(mistral?.headers["x-openrouter-fusion-depth"]).toBe("1");
  });

  it("proxies by the body's model: raw bytes when the slug stays, rewritten otherwise", async () => {
    const raw = `{"model":"openai/gpt-5",  "messages":${JSON.stringify(messages)}, "top_k": 3}`;
    const res = await router.proxy("/chat/completions", raw);
    expect(res.status).toBe(200);
    expect(JSON.parse(await new Response(res.body).text())).toMatchObject({ object: "chat.completion" });
    const [sent] = cloud.state.listRequests({ model: "openai/gpt-5" });
    expect(sent?.body).toEqual(JSON.parse(raw));
    expect(sent?.headers.authorization).toBe("Bearer sk-cloud");

    const rewritten = await router.proxy(
      "/chat/completions",
      JSON.stringify({ model: "local/phi", messages, stream: true }),
    );
    expect(rewritten.headers["content-type"]).toContain("text/event-stream");
    expect(await new Response(rewritten.body).text()).toContain("data: [DONE]");
    expect(local.state.listRequests({ model: "phi" })).toHaveLength(1);
  });

  it("removes the fields a provider does not accept, on every method and when proxying", async () => {
    const openRouterOnly = {
      plugins: [{ id: "web" }],
      provider: { order: ["x"] },
      transforms: ["middle-out"],
    };
    await router.complete({ model: "strict/a", messages, temperature: 0.2, ...openRouterOnly });
    await router.streamTurn({ model: "strict/b", messages, ...openRouterOnly });
    for await (const _ of router.stream({ model: "strict/c", messages, ...openRouterOnly })) {
      // drained
    }
    const proxied = await router.proxy(
      "/chat/completions",
      JSON.stringify({ model: "strict/d", messages, ...openRouterOnly }),
    );
    await new Response(proxied.body).text();
    for (const model of ["a", "b", "c", "d"]) {
      const [sent] = local.state.listRequests({ model });
      expect(sent?.path, model).toBe("/chat/completions");
      const body = sent?.body as Record<string, unknown>;
      expect(body.plugins, model).toBeUndefined();
      expect(body.provider, model).toBeUndefined();
      expect(body.transforms, model).toBeUndefined();
      expect(body.messages, model).toEqual(messages);
    }
    expect(local.state.listRequests({ model: "a" })[0]?.body).toMatchObject({ temperature: 0.2 });
    // Other providers still get them: they are OpenRouter's to read.
    await router.complete({ model: "~x/y", messages, ...openRouterOnly });
    expect(cloud.state.listRequests({ model: "~x/y" })[0]?.body).toMatchObject(openRouterOnly);
  });

  it("refuses a model no route matches: a 400 error, and a 400 response when proxying", async () => {
    const error = await router.complete({ model: "mistral/large", messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ kind: "http", status: 400, retryable: false });
    expect((error as Error).message).toBe('no provider route matches model "mistral/large"');

    const res = await router.proxy("/chat/completions", JSON.stringify({ model: "mistral/large", messages }));
    expect(res.status).toBe(400);
    expect(JSON.parse(await new Response(res.body).text())).toEqual({
      error: { code: 400, message: 'no provider route matches model "mistral/large"' },
    });
  });
});
