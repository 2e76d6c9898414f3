import { readSseFrames } from "@fusion/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * `GET /api/v1/fusions` (issue 12): a key's own fusions, newest first, with their status, models,
 * judge, prompt and cost, page by page; another key's never appear. Real services, the simulator.
 */
const KEYS = ["sk-list-a-0123456789abcdef", "sk-list-b-0123456789abcdef", "sk-list-c-0123456789abcdef"];
const [A, B, C] = KEYS as [string, string, string];
const e2e = useStack({ gateways: 2, extraApiKeys: KEYS });
let redis: Redis;
beforeAll(() => {
  redis = new Redis(e2e.redis.url);
});
afterAll(() => redis?.disconnect());

interface Listed {
  id: string;
  object: string;
  created: number;
  status: string;
  model: string;
  models: string[];
  judge: string;
  prompt: string;
  cost: number | null;
}
interface Page {
  object: string;
  data: Listed[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

const headers = (key: string) => ({ "content-type": "application/json", authorization: `Bearer ${key}` });

function post(key: string, body: unknown, gateway = 0): Promise<Response> {
  return fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/chat/completions`, {
    method: "POST",
    headers: headers(key),
    body: JSON.stringify(body),
  });
}

async function list(key: string, query = "", gateway = 1): Promise<Response> {
  return fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/fusions${query}`, { headers: headers(key) });
}

async function page(key: string, query = ""): Promise<Page> {
  const res = await list(key, query);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

function fusion(prompt: string, panel: string[], judge: string, extra: Record<string, unknown> = {}) {
  return {
    model: "openrouter/fusion",
    messages: [
      { role: "user", content: "an earlier question" },
      { role: "assistant", content: "an earlier answer" },
      { role: "user", content: prompt },
    ],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge, tools: [] }],
    ...extra,
  };
}

describe("GET /api/v1/fusions", () => {
  it("lists the key's finished fusions newest first, with models, judge, prompt, status and cost", async () => {
    const panel = [uniqueModel("p0"), uniqueModel("p1")];
    const judge = uniqueModel("judge");
    const long = `Compare ridge and lasso. ${"Why? ".repeat(80)}`;
    const ids: string[] = [];
    for (const prompt of ["first question", "second question", long]) {
      const res = await post(A, fusion(prompt, panel, judge));
      expect(res.status).toBe(200);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const listed = await page(A);
    expect(listed).toMatchObject({ object: "list", has_more: false, first_id: ids[2], last_id: ids[0] });
    expect(listed.data.map((f) => f.id)).toEqual([...ids].reverse());
    const [newest] = listed.data;
    expect(newest).toEqual({
      id: ids[2],
      object: "fusion",
      created: expect.any(Number),
      status: "completed",
      model: "openrouter/fusion",
      models: panel,
      judge,
      prompt: long.slice(0, 200),
      cost: expect.any(Number),
    });
    expect(Math.abs((newest?.created ?? 0) - Date.now() / 1000)).toBeLessThan(60);
    // The cost is the completion's.
    const completion = (await (
      await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/fusions/${ids[2]}`, { headers: headers(A) })
    ).json()) as { usage: { cost: number } };
    expect(newest?.cost).toBeCloseTo(completion.usage.cost, 9);
    expect(listed.data[2]?.prompt).toBe("first question");

    // Another key sees none of them, and cannot page from them.
    expect(await page(B)).toEqual({
      object: "list",
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
    const foreign = await list(B, `?after=${ids[0]}`);
    expect(foreign.status).toBe(400);
  });

  it("pages with limit and after", async () => {
    const judge = uniqueModel("judge");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(C, fusion(`question ${i}`, [uniqueModel("p")], judge));
      ids.push(((await res.json()) as { id: string }).id);
    }
    const newestFirst = [...ids].reverse();
    const first = await page(C, "?limit=2");
    expect(first.data.map((f) => f.id)).toEqual(newestFirst.slice(0, 2));
    expect(first).toMatchObject({ has_more: true, first_id: newestFirst[0], last_id: newestFirst[1] });
    const second = await page(C, `?limit=2&after=${first.last_id}`);
    expect(second.data.map((f) => f.id)).toEqual(newestFirst.slice(2, 4));
    expect(second.has_more).toBe(true);
    const third = await page(C, `?limit=2&after=${second.last_id}`);
    expect(third.data.map((f) => f.id)).toEqual(newestFirst.slice(4));
    expect(third.has_more).toBe(false);
    expect(await page(C, `?after=${newestFirst[4]}`)).toMatchObject({
      data: [],
      has_more: false,
      first_id: null,
    });

    // A fusion whose records expired is skipped, and the page still fills up.
    await redis.del(`fusion:{${newestFirst[1]}}:meta`);
    const skipping = await page(C, "?limit=2");
    expect(skipping.data.map((f) => f.id)).toEqual([newestFirst[0], newestFirst[2]]);
    expect(skipping.has_more).toBe(true);

    for (const bad of ["0", "101", "abc", "1.5", "-1", ""]) {
      const res = await list(C, `?limit=${bad}`);
      expect(res.status, `limit=${bad}`).toBe(400);
      expect(await res.json()).toMatchObject({
        error: { code: 400, message: "limit must be a whole number from 1 to 100" },
      });
    }
    const unknown = await list(C, "?after=gen-fusion-nope");
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: { code: 400, message: expect.stringContaining("after") },
    });
  });

  it("shows a running fusion as running without a cost, then completed with its cost; a plugin fusion names the caller's model", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 1500 });
    const caller = uniqueModel("caller");
    await e2e.control.script(caller, { fusion: "call" });
    const res = await post(B, {
      model: caller,
      stream: true,
      messages: [{ role: "user", content: "deliberate please" }],
      plugins: [{ id: "fusion", analysis_models: [slow], tools: [] }],
    });
    const fusionId = res.headers.get("x-fusion-id");
    await expect
      .poll(async () => (await page(B)).data[0], { timeout: 5000 })
      .toMatchObject({
        id: fusionId,
        status: "running",
        cost: null,
        model: caller,
        models: [slow],
        judge: caller,
      });
    await readSseFrames(res);
    expect((await page(B)).data[0]).toMatchObject({
      id: fusionId,
      status: "completed",
      cost: expect.any(Number),
      prompt: "deliberate please",
    });
  });

  it("indexes each fusion under its key in Redis, for as long as the fusion's records live", async () => {
    const res = await post(A, fusion("indexed", [uniqueModel("p")], uniqueModel("judge")));
    const { id } = (await res.json()) as { id: string };
    const indexes = await redis.keys("fusion:owner:{*}:fusions");
    const [index] = (
      await Promise.all(indexes.map(async (k) => ((await redis.zscore(k, id)) !== null ? k : undefined)))
    ).filter(Boolean);
    expect(index).toBeDefined();
    // The index lives as long as its newest fusion's records.
    const ttl = await redis.ttl(index as string);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(await redis.ttl(`fusion:{${id}}:meta`));
  });
});
