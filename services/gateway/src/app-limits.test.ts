import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { useSimulator } from "@fusion/simulator/test-support";
import { type RedisFixture, startRedis } from "@fusion/testing";
import { serve } from "@hono/node-server";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway, testRedis } from "./test-gateway.ts";

/**
 * The gateway's input and per-key limits, driven in-process through `createApp` with real Redis and the
 * simulator as upstream.
 */

const sim = useSimulator();
let redisFixture: RedisFixture;
let redis: Redis;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  redisFixture = await startRedis();
  redis = testRedis(redisFixture.url);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  redis?.disconnect();
  await redisFixture?.close();
});

async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await testGateway({ redisUrl: redisFixture.url, upstreamUrl: `${sim.url}/v1`, env });
  gateways.push(gw);
  return gw;
}

const PATH = "/api/v1/chat/completions";
const user = (content: string) => ({ role: "user", content });
const plain = (messages: unknown[], model = "sim/plain") => JSON.stringify({ model, messages });

async function expectError(res: Response, status: number, message?: RegExp): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: number; message: string } };
  expect(body.error.code).toBe(status);
  expect(typeof body.error.message).toBe("string");
  if (message) expect(body.error.message).toMatch(message);
  return body.error.message;
}

/** A body sent as a stream of chunks, without Content-Length (what a chunked upload looks like). */
function chunked(text: string, size = 1000): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + size));
      offset += size;
    },
  });
}

describe("body size", () => {
  const gw = () => gateway({ BODY_LIMIT_BYTES: "4096" });

  it("answers 413 in the error shape for a body over BODY_LIMIT_BYTES with Content-Length", async () => {
    const g = await gw();
    const body = plain([user("x".repeat(5000))]);
    const res = await g.app.request(PATH, {
      method: "POST",
      headers: { ...g.auth, "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
    // The unread rest of the body leaves the connection unusable: the answer closes it.
    expect(res.headers.get("connection")).toBe("close");
    await expectError(res, 413, /exceeds 4096 bytes/);
  });

  it("answers 413 for a chunked body without Content-Length, and reads one under the limit", async () => {
    const g = await gw();
    const init = (text: string) => ({
      method: "POST",
      headers: { ...g.auth, "content-type": "application/json" },
      body: chunked(text),
      duplex: "half" as const,
    });
    const big = plain([user("x".repeat(10_000))]);
    await expectError(await g.app.request(PATH, init(big)), 413, /exceeds 4096 bytes/);
    const small = plain([user("y".repeat(3000))]);
    const ok = await g.app.request(PATH, init(small));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { choices: unknown[] }).choices).toHaveLength(1);
  });

  it("answers 413 to a chunked upload over a real socket and keeps serving", async () => {
    const g = await gw();
    const server = serve({ fetch: g.app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    const { port } = server.address() as AddressInfo;
    const send = (parts: string[]) =>
      new Promise<{ status: number; text: string; headers: Record<string, unknown> }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: "127.0.0.1",
            port,
            path: PATH,
            method: "POST",
            headers: { ...g.auth, "content-type": "application/json", "transfer-encoding": "chunked" },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => {
              text += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
          },
        );
        // The gateway may answer and close before the whole upload is sent.
        req.on("error", reject);
        for (const p of parts) req.write(p);
        req.end();
      });
    try {
      const big = plain([user("z".repeat(20_000))]);
      const refused = await send(big.match(/.{1,1000}/gs) ?? []);
      expect(refused.status).toBe(413);
      expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 413 } });
      const ok = await send([plain([user("fine")])]);
      expect(ok.status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("message count and length", () => {
  const limits = { MAX_MESSAGES: "4", MAX_MESSAGE_CHARS: "100", MAX_TOTAL_CHARS: "250" };

  it("answers 400 with a clear message beyond each limit, before anything reaches the upstream", async () => {
    const g = await gateway(limits);
    const post = (body: string) =>
      g.app.request(PATH, {
        method: "POST",
        headers: { ...g.auth, "content-type": "application/json" },
        body,
      });
    const model = `sim/limits-${Date.now()}`;
    const cases: Array<[unknown[], RegExp]> = [
      [Array.from({ length: 5 }, () => user("hi")), /messages: 5 messages, more than the 4/],
      [[user("ok"), user("x".repeat(101))], /messages\.1: 101 characters, more than the 100/],
      [
        [user("ok"), { role: "user", content: [{ type: "text", text: "x".repeat(101) }] }],
        /messages\.1: 101 characters/,
      ],
      [[user("a".repeat(100)), user("b".repeat(100)), user("c".repeat(51))], /251 characters in all/],
    ];
    for (const [messages, message] of cases)
      await expectError(await post(plain(messages, model)), 400, message);
    // The fusion alias is refused the same way, before anything is queued.
    await expectError(
      await post(
        plain(
          Array.from({ length: 5 }, () => user("hi")),
          "openrouter/fusion",
        ),
      ),
      400,
      /more than the 4/,
    );
    expect(sim.state.listRequests({ model })).toHaveLength(0);
    expect(await g.jobCounts()).toBe(0);

    const atLimits = [user("a".repeat(100)), user("b".repeat(100)), user("c".repeat(50)), user("")];
    const ok = await post(plain(atLimits, model));
    expect(ok.status).toBe(200);
    expect(sim.state.listRequests({ model })).toHaveLength(1);
  });
});

describe("requests per minute per key", () => {
  it("holds across two gateways, per key, with Retry-After in the error shape", async () => {
    const keys = "sk-rpm-one-0123456789,sk-rpm-two-0123456789";
    const env = { RATE_LIMIT_RPM: "3", GATEWAY_API_KEYS: keys, QUEUE_PREFIX: `{rpm-${Date.now()}}` };
    const [a, b] = await Promise.all([gateway(env), gateway(env)]);
    const get = (g: TestGateway, key: string) =>
      g.app.request("/api/v1/models", { headers: { authorization: `Bearer ${key}` } });
    const one = "sk-rpm-one-0123456789";
    expect((await get(a, one)).status).toBe(200);
    expect(
      (
        await b.app.request(PATH, {
          method: "POST",
          headers: { authorization: `Bearer ${one}`, "content-type": "application/json" },
          body: plain([user("x")]),
        })
      ).status,
    ).toBe(200);
    expect((await get(a, one)).status).toBe(200);
    // A wrong key is refused by authentication and counts against nobody.
    expect((await get(b, "sk-wrong")).status).toBe(401);

    for (const g of [b, a]) {
      const res = await get(g, one);
      const retryAfter = Number(res.headers.get("retry-after"));
      await expectError(res, 429, /at most 3 requests per minute/);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect((await get(b, "sk-rpm-two-0123456789")).status).toBe(200);
  });
});

describe("concurrent fusions per key", () => {
  const fusion = (stream: boolean) =>
    JSON.stringify({
      model: "openrouter/fusion",
      stream,
      messages: [user("hold a slot")],
      plugins: [{ id: "fusion", analysis_models: ["sim/a"], model: "sim/j" }],
    });

  it("refuses a fusion beyond MAX_CONCURRENT_FUSIONS across gateways and frees the slot when the client leaves", async () => {
    const env = {
      MAX_CONCURRENT_FUSIONS: "1",
      QUEUE_PREFIX: `{conc-${Date.now()}}`,
      GATEWAY_API_KEYS: "sk-conc-0123456789",
    };
    const [a, b] = await Promise.all([gateway(env), gateway(env)]);
    const post = async (g: TestGateway, body: string, signal?: AbortSignal) =>
      g.app.request(PATH, {
        method: "POST",
        headers: { ...g.auth, "content-type": "application/json" },
        body,
        ...(signal ? { signal } : {}),
      });
    const slots = async () => {
      const found = await redis.keys(`${env.QUEUE_PREFIX}:limits:fusions:*`);
      return found.length === 0 ? 0 : redis.zcard(found[0] as string);
    };
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 5000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error("condition not reached");
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const first = await post(a, fusion(true));
    expect(first.status).toBe(200);
    const reader = first.body?.getReader();
    await reader?.read();
    expect(await slots()).toBe(1);

    const refused = await post(b, fusion(false));
    expect(refused.headers.get("retry-after")).toBe("1");
    await expectError(refused, 429, /too many fusions in flight for this API key \(at most 1\)/);
    // Plain requests hold no slot.
    expect((await post(b, plain([user("plain")]))).status).toBe(200);

    await reader?.cancel();
    await until(async () => (await slots()) === 0);

    // A non-streaming fusion holds the slot until its client goes away.
    const controller = new AbortController();
    const pending = post(b, fusion(false), controller.signal);
    await until(async () => (await slots()) === 1);
    await expectError(await post(a, fusion(true)), 429);
    controller.abort();
    await pending.catch(() => undefined);
    await until(async () => (await slots()) === 0);
    const again = await post(a, fusion(true));
    expect(again.status).toBe(200);
    await again.body?.cancel();
    await until(async () => (await slots()) === 0);
  });
});
