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
    await storeConversation(redis, fusionId, { body: { messages: [] } }, 120);
    const panelTools = countingTools();
    const judgeTools = countingTools();
    const panel = withFusionToolBudget(panelTools, redis, fusionId, { limit: 4 });
    const judge = withFusionToolBudget(judgeTools, redis, fusionId, { limit: 4 });
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
});
