import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * Per-key limits are held in Redis, so they hold across gateways: two gateway processes share one
 * requests-per-minute budget and one concurrent-fusion budget per API key.
 */

const keys = {
  rpm: "sk-rl-rpm-0123456789",
  fusions: "sk-rl-fusions-0123456789",
  other: "sk-rl-other-0123456789",
};
const e2e = useStack({
  gateways: 2,
  env: {
    GATEWAY_API_KEYS: Object.values(keys).join(","),
    RATE_LIMIT_RPM: "5",
    MAX_CONCURRENT_FUSIONS: "2",
  },
});

function post(gateway: number, key: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

async function expect429(res: Response, message: RegExp): Promise<number> {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  const body = (await res.json()) as { error: { code: number; message: string } };
  expect(body.error.code).toBe(429);
  expect(body.error.message).toMatch(message);
  return retryAfter;
}

describe("requests per minute per key", () => {
  it("RATE_LIMIT_RPM holds across two gateways, per key", async () => {
    const plain = { model: uniqueModel("plain"), messages: [{ role: "user", content: "hi" }] };
    // Five requests spread over both gateways use up the key's minute.
    for (let i = 0; i < 5; i++) expect((await post(i % 2, keys.rpm, plain)).status).toBe(200);
    // Either gateway now refuses the sixth, with the time until the oldest leaves the window.
    for (const gateway of [0, 1]) {
      const retryAfter = await expect429(
        await post(gateway, keys.rpm, plain),
        /at most 5 requests per minute/,
      );
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // The refused requests never reached the upstream.
    expect(await e2e.control.requests({ model: plain.model })).toHaveLength(5);
    // Another key has its own budget.
    expect((await post(1, keys.other, plain)).status).toBe(200);
  });
});

describe("concurrent fusions per key", () => {
  it("MAX_CONCURRENT_FUSIONS holds across two gateways; a slot frees when its client leaves or its answer ends", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 1500 });
    const fusion = (panelist: string, stream: boolean) => ({
      model: "openrouter/fusion",
      stream,
      messages: [{ role: "user", content: "take your time" }],
      plugins: [{ id: "fusion", analysis_models: [panelist], model: uniqueModel("judge"), tools: [] }],
    });
    const redis = new Redis(e2e.redis.url);
    const held = async () => {
      const found = await redis.keys(`${e2e.stack.prefix}:limits:fusions:*`);
      return found[0] ? redis.zcard(found[0]) : 0;
    };
    const until = async (n: number) => {
      const deadline = Date.now() + 10_000;
      while ((await held()) !== n) {
        if (Date.now() > deadline) throw new Error(`slots held: ${await held()}, expected ${n}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      const leaving = new AbortController();
      const first = await post(0, keys.fusions, fusion(slow, true), leaving.signal);
      const second = await post(1, keys.fusions, fusion(slow, true));
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(await held()).toBe(2);

      const refusedPanelist = uniqueModel("refused");
      const retryAfter = await expect429(
        await post(0, keys.fusions, fusion(refusedPanelist, false)),
        /too many fusions in flight for this API key \(at most 2\)/,
      );
      expect(retryAfter).toBe(1);

      // The first client leaves: its slot is released at once, and another gateway can take it.
      leaving.abort();
      await until(1);
      const third = await post(1, keys.fusions, fusion(slow, false));
      expect(third.status).toBe(200);
      expect(((await third.json()) as { fusion: { status: string } }).fusion.status).toBe("ok");
      // The streamed fusion finishes too; every slot is free again.
      expect(await second.text()).toContain("data: [DONE]");
      await until(0);
      // The refused request queued nothing.
      expect(await e2e.control.requests({ model: refusedPanelist })).toHaveLength(0);
    } finally {
      redis.disconnect();
    }
  });
});
