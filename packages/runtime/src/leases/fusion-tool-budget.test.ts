import { randomBytes } from "node:crypto";
import type { ToolExecutor } from "@fusion/llm-client";
import { type RedisFixture, startRedis } from "@fusion/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeConversation } from "../jobs/conversation-store.ts";
import { keys } from "../redis/keys.ts";
import { createRedis } from "../redis/redis.ts";
import { withFusionToolBudget } from "./fusion-tool-budget.ts";

let fixture: RedisFixture;
let redis: Redis;

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "worker", "test:budget");
});
afterAll(async () => {
  redis?.disconnect();
  await fixture?.close();
});

/** Web tools that only count what they ran. */
function countingTools(): ToolExecutor & { ran: number } {
  const tools = {
    ran: 0,
    maxCallsPerTurn: 5,
    definitions: () => [],
    async execute(name: string) {
      tools.ran++;
      return { name, ok: true, content: "{}", urls: [] };
    },
  };
  return tools;
}

describe("withFusionToolBudget", () => {
  it("runs a fusion's first `limit` calls across its stages and refuses the rest with a tool error", async () => {
    const fusionId = `f-${randomBytes(4).toString("hex")}`;
    // As the gateway stores it: the conversation with its expiry.
    const expiresAt = Date.now() + 120_000;
    await storeConversation(redis, fusionId, { body: { messages: [] }, expiresAt }, 120);
    const panelTools = countingTools();
    const judgeTools = countingTools();
    const panel = withFusionToolBudget(panelTools, redis, fusionId, { limit: 4, expiresAt });
    const judge = withFusionToolBudget(judgeTools, redis, fusionId, { limit: 4, expiresAt });
    expect(panel.maxCallsPerTurn).toBe(5);

    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => panel.execute("web_fetch", "{}")),
      ...Array.from({ length: 3 }, () => judge.execute("web_search", "{}")),
    ]);
    expect(panelTools.ran + judgeTools.ran).toBe(4);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(JSON.parse(r.content)).toEqual({
        error: "not run: this fusion's budget of 4 tool calls is used up; answer now",
      });
    }
    // The counter lives as long as the fusion's conversation, no longer.
    const ttl = await redis.pttl(keys.toolCalls(fusionId));
    expect(ttl).toBeGreaterThan(100_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it("counts exactly across processes calling at once (separate connections)", async () => {
    const fusionId = `f-${randomBytes(4).toString("hex")}`;
    const expiresAt = Date.now() + 120_000;
    const connections = Array.from({ length: 4 }, (_, i) =>
      createRedis(fixture.url, "worker", `test:budget-${i}`),
    );
    try {
      const tools = connections.map(() => countingTools());
      const budgeted = connections.map((c, i) =>
        withFusionToolBudget(tools[i] as ToolExecutor, c, fusionId, { limit: 7, expiresAt }),
      );
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, n) => budgeted[n % 4]?.execute("web_fetch", "{}")),
      );
      expect(tools.reduce((sum, t) => sum + t.ran, 0)).toBe(7);
      expect(results.filter((r) => r?.ok)).toHaveLength(7);
      expect(await redis.get(keys.toolCalls(fusionId))).toBe("24");
    } finally {
      for (const c of connections) c.disconnect();
    }
  });

  it("never leaves a counter without a TTL: a minute when the conversation is already gone", async () => {
    const fusionId = `f-${randomBytes(4).toString("hex")}`;
    const tools = countingTools();
    const late = withFusionToolBudget(tools, redis, fusionId, { limit: 2, expiresAt: Date.now() - 5_000 });
    expect((await late.execute("web_fetch", "{}")).ok).toBe(true);
    const ttl = await redis.pttl(keys.toolCalls(fusionId));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // A conversation stored before it carried its expiry: an hour, longer than any fusion.
    const older = `f-${randomBytes(4).toString("hex")}`;
    await withFusionToolBudget(tools, redis, older, { limit: 2 }).execute("web_fetch", "{}");
    const olderTtl = await redis.pttl(keys.toolCalls(older));
    expect(olderTtl).toBeGreaterThan(3_500_000);
    expect(olderTtl).toBeLessThanOrEqual(3_600_000);
  });

  it("lives no longer than the fusion's conversation, however short its retention", async () => {
    const fusionId = `f-${randomBytes(4).toString("hex")}`;
    const budgeted = withFusionToolBudget(countingTools(), redis, fusionId, {
      limit: 2,
      expiresAt: Date.now() + 3_000,
    });
    await budgeted.execute("web_fetch", "{}");
    const ttl = await redis.pttl(keys.toolCalls(fusionId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_000);
  });

  it("gives the counter its lifetime once: later calls neither reset nor extend it", async () => {
    const fusionId = `f-${randomBytes(4).toString("hex")}`;
    const tools = countingTools();
    const expiresAt = Date.now() + 120_000;
    const budgeted = withFusionToolBudget(tools, redis, fusionId, { limit: 5, expiresAt });
    await budgeted.execute("web_fetch", "{}");
    await redis.pexpire(keys.toolCalls(fusionId), 90_000);
    await budgeted.execute("web_fetch", "{}");
    expect(await redis.get(keys.toolCalls(fusionId))).toBe("2");
    expect(await redis.pttl(keys.toolCalls(fusionId))).toBeLessThanOrEqual(90_000);
  });

  it("fails closed: a call whose count fails (no Redis, fail-fast connection) is refused, not run", async () => {
    const broken = createRedis("redis://127.0.0.1:1", "producer", "test:budget-down");
    broken.on("error", () => {});
    const tools = countingTools();
    const budgeted = withFusionToolBudget(tools, broken, "f-down", { limit: 100 });
    const result = await budgeted.execute("web_fetch", "{}");
    broken.disconnect();
    expect(tools.ran).toBe(0);
    expect(result.ok).toBe(false);
    expect(result.content).toContain("budget could not be checked");
  });

  it("passes the server tools through, counting none of them (the upstream runs them)", async () => {
    const fusionId = `f-${randomBytes(4).toString("hex")}`;
    const search = { type: "openrouter:web_search", parameters: { max_results: 5 } };
    const tools = { ...countingTools(), serverTools: () => [search] };
    const budgeted = withFusionToolBudget(tools, redis, fusionId, { limit: 1 });
    expect(budgeted.serverTools?.(["web_search"])).toEqual([search]);
    expect(await redis.exists(keys.toolCalls(fusionId))).toBe(0);
    // Without server tools the wrapper offers none either.
    expect(withFusionToolBudget(countingTools(), redis, fusionId, { limit: 1 }).serverTools).toBeUndefined();
  });
});
