import { readSseFrames } from "@fusion/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { contentOf } from "./support/sse.ts";
import { until as untilWithin } from "./support/until.ts";

/** `until` with this file's default wait: 15 s. */
const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000) =>
  untilWithin(what, read, ok, ms);

/**
 * Fusions that outlive their request, on real processes and Redis with two gateways: async requests
 * (`Prefer: respond-async`, 202, read later) and `Idempotency-Key` (a retry, on either gateway, gets
 * the same fusion: its completion, its stream, or its 202; never a second fusion).
 */

const OTHER_KEY = "sk-other-tenant-key-0123456789";
// The per-key cap on: a fusion's slot must be freed when it ends, whether or not a response serves it.
const e2e = useStack({ gateways: 2, extraApiKeys: [OTHER_KEY], env: { MAX_CONCURRENT_FUSIONS: "8" } });
let redis: Redis;
beforeAll(() => {
  redis = new Redis(e2e.redis.url);
});
afterAll(() => redis?.disconnect());

const auth = (key = e2e.stack.apiKey) => ({ authorization: `Bearer ${key}` });
const gw = (i: number) => e2e.stack.gatewayUrl(i);

function post(
  gateway: number,
  body: unknown,
  headers: Record<string, string> = {},
  options: { base?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${gw(gateway)}${options.base ?? "/api/v1"}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(), ...headers },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** An alias fusion with a one-model panel and no tools: one panel call per fusion that runs. */
function fusion(panelist: string, writer: string, extra: Record<string, unknown> = {}) {
  return {
    model: "openrouter/fusion",
    messages: [{ role: "user", content: "background work" }],
    plugins: [{ id: "fusion", analysis_models: [panelist], model: writer, tools: [] }],
    ...extra,
  };
}

/** GET a fusion (a path from `Location`, or an id) through a gateway. */
async function read(gateway: number, pathOrId: string, key = e2e.stack.apiKey) {
  const path = pathOrId.startsWith("/") ? pathOrId : `/api/v1/fusions/${pathOrId}`;
  const res = await fetch(`${gw(gateway)}${path}`, { headers: auth(key) });
  type Read = Record<string, unknown> & { id: string; choices?: Array<{ message: { content: string } }> };
  return { status: res.status, body: (await res.json()) as Read };
}

const completed = (r: { body: Record<string, unknown> }) => r.body.object === "chat.completion";
const callsTo = async (model: string) => (await e2e.control.requests({ model })).length;
const slotsHeld = async () => {
  let held = 0;
  for (const key of await redis.keys(`${e2e.stack.prefix}:limits:fusions:*`)) held += await redis.zcard(key);
  return held;
};

describe("async requests (Prefer: respond-async)", () => {
  it("answer 202 at once with Location under the base used; the fusion is read there when done", async () => {
    const panelist = uniqueModel("p");
    const writer = uniqueModel("w");
    await e2e.control.script(panelist, { latencyMs: 500 });
    for (const [base, headers, extra] of [
      ["/api/v1", { prefer: "respond-async, wait=5" }, {}],
      ["/v1", {}, { fusion: { async: true } }],
    ] as const) {
      const res = await post(0, fusion(panelist, writer, { stream: false, ...extra }), headers, { base });
      expect(res.status).toBe(202);
      const accepted = (await res.json()) as { id: string };
      expect(accepted).toEqual({
        id: expect.stringMatching(/^gen-fusion-/),
        object: "fusion",
        status: "queued",
        created: expect.any(Number),
        model: writer,
      });
      expect(res.headers.get("location")).toBe(`${base}/fusions/${accepted.id}`);
      expect(res.headers.get("preference-applied")).toBe("respond-async");
      expect(res.headers.get("x-fusion-id")).toBe(accepted.id);

      const done = await until("completion", () => read(1, res.headers.get("location") as string), completed);
      expect(done.body.id).toBe(accepted.id);
      expect(JSON.stringify(done.body)).toContain(`Final answer from ${writer}`);
      // Its stream is there from the start, from either gateway.
      const frames = await readSseFrames(
        await fetch(`${gw(1)}/api/v1/fusions/${accepted.id}/stream`, { headers: auth() }),
      );
      expect(contentOf(frames)).toContain(`Final answer from ${writer}`);
      expect(frames.at(-1)?.data).toBe("[DONE]");
    }
    // Its slot was freed by the periodic check of the gateway holding it: no response served it.
    await until("slots held", slotsHeld, (n) => n === 0, 5000);
  });

  it("is not cancelled for having no reader, nor when a reader of its stream leaves", async () => {
    const panelist = uniqueModel("slow");
    const writer = uniqueModel("w");
    await e2e.control.script(panelist, { latencyMs: 1500 });
    const res = await post(0, fusion(panelist, writer, { stream: true }), { prefer: "respond-async" });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(await slotsHeld()).toBe(1);
    // A reader comes and goes while it works (RESUME_GRACE_MS is 0: a plain request would be cancelled now).
    const leaving = new AbortController();
    const stream = await fetch(`${gw(1)}/api/v1/fusions/${id}/stream`, {
      headers: auth(),
      signal: leaving.signal,
    });
    await readSseFrames(stream, (fs) => fs.length >= 1);
    leaving.abort();
    const done = await until("completion", () => read(0, id), completed);
    expect(JSON.stringify(done.body)).toContain(`Final answer from ${writer}`);
    expect(await redis.exists(`fusion:{${id}}:cancelled`)).toBe(0);
    await until("slots held", slotsHeld, (n) => n === 0, 5000);
  });

  it("works for the plugin and the server tool; a model that declines still leaves its completion", async () => {
    const caller = uniqueModel("caller");
    const decliner = uniqueModel("decliner");
    const panel = [uniqueModel("p")];
    await e2e.control.script(caller, { fusion: "call" });
    await e2e.control.script(decliner, { fusion: "decline" });
    const requests = [
      { model: caller, plugins: [{ id: "fusion", analysis_models: panel, tools: [] }] },
      {
        model: caller,
        tools: [{ type: "openrouter:fusion", parameters: { analysis_models: panel, tools: [] } }],
      },
      { model: decliner, plugins: [{ id: "fusion", analysis_models: panel, tools: [] }] },
    ];
    const ids: string[] = [];
    for (const body of requests) {
      const res = await post(
        1,
        { ...body, messages: [{ role: "user", content: "hello there" }] },
        {
          prefer: "respond-async",
        },
      );
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const [plugin, tool, declined] = await Promise.all(
      ids.map((id) => until("completion", () => read(0, id), completed)),
    );
    for (const done of [plugin, tool]) {
      expect(JSON.stringify(done?.body)).toContain(`Final answer from ${caller}`);
      expect(done?.body.fusion).toMatchObject({ status: "ok" });
    }
    expect(declined?.body).toMatchObject({
      choices: [{ message: { content: `Direct answer from ${decliner}: hello there` } }],
    });
    expect(await callsTo(panel[0] as string)).toBe(2);
  });

  it("a pass-through ignores the preference and an Idempotency-Key: answered as usual", async () => {
    const plain = uniqueModel("plain");
    const body = { model: plain, messages: [{ role: "user", content: "hi" }] };
    const headers = { prefer: "respond-async", "idempotency-key": "plain-1" };
    for (const gateway of [0, 1]) {
      const res = await post(gateway, body, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get("preference-applied")).toBeNull();
      expect(((await res.json()) as { object: string }).object).toBe("chat.completion");
    }
    expect(await callsTo(plain)).toBe(2);
  });
});

describe("Idempotency-Key", () => {
  it("non-streaming: concurrent duplicates on both gateways get one fusion and the same completion", async () => {
    const panelist = uniqueModel("p");
    const writer = uniqueModel("w");
    await e2e.control.script(panelist, { latencyMs: 300 });
    const body = fusion(panelist, writer, { stream: false });
    const headers = { "idempotency-key": `order-${Math.random()}` };
    const answers = await Promise.all([0, 1, 0, 1].map((g) => post(g, body, headers)));
    const completions = await Promise.all(
      answers.map(async (r) => ({ status: r.status, body: await r.json() })),
    );
    for (const c of completions) expect(c).toEqual({ status: 200, body: completions[0]?.body });
    const ids = answers.map((r) => r.headers.get("x-fusion-id"));
    expect(new Set(ids).size).toBe(1);
    expect(answers.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(3);
    // A retry after it finished gets the completion again, on either gateway (another base too).
    const later = await post(1, body, headers, { base: "/v1" });
    expect(await later.json()).toEqual(completions[0]?.body);
    expect(await callsTo(panelist)).toBe(1);
  });

  it("streaming: a client that drops mid-stream and retries on the other gateway gets the same fusion, whole, once", async () => {
    const panelist = uniqueModel("p");
    const writer = uniqueModel("w");
    await e2e.control.script(writer, { tokenDelayMs: 40, onlyRoles: ["writer"] });
    const body = fusion(panelist, writer, { stream: true });
    const headers = { "idempotency-key": `chat-${Math.random()}` };
    const dropped = new AbortController();
    const first = await post(0, body, headers, { signal: dropped.signal });
    const fusionId = first.headers.get("x-fusion-id");
    const head = await readSseFrames(first, (fs) => fs.filter((f) => f.data).length === 3);
    dropped.abort();

    const retry = await post(1, body, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-fusion-id")).toBe(fusionId);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const whole = await readSseFrames(retry);
    expect(whole.at(-1)?.data).toBe("[DONE]");
    const done = await read(0, fusionId as string);
    const text = done.body.choices?.[0]?.message.content;
    expect(text).toContain(`Final answer from ${writer}`);
    expect(contentOf(whole)).toBe(text);

    // With Last-Event-ID the retry resumes after it: no gap, no duplicate.
    const lastId = head.filter((f) => f.id).at(-1)?.id as string;
    const tail = await readSseFrames(await post(0, body, { ...headers, "last-event-id": lastId }));
    expect(contentOf(head) + contentOf(tail)).toBe(text);
    expect(await callsTo(panelist)).toBe(1);
  });

  it("a request that sets its own resume grace keeps it: with 0 a drop cancels, and a retry reads that end", async () => {
    const writer = uniqueModel("w");
    await e2e.control.script(writer, { tokenDelayMs: 40, onlyRoles: ["writer"] });
    const body = fusion(uniqueModel("p"), writer, { stream: true, fusion: { resume_grace_ms: 0 } });
    const headers = { "idempotency-key": `nograce-${Math.random()}` };
    const dropped = new AbortController();
    const first = await post(0, body, headers, { signal: dropped.signal });
    await readSseFrames(first, (fs) => fs.filter((f) => f.data).length === 2);
    dropped.abort();
    const fusionId = first.headers.get("x-fusion-id") as string;
    await until(
      "status",
      () => read(1, fusionId),
      (r) => r.body.status === "cancelled",
    );
    const retry = await post(1, body, headers);
    expect(retry.headers.get("x-fusion-id")).toBe(fusionId);
    const frames = await readSseFrames(retry);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(JSON.parse(frames.at(-2)?.data ?? "{}")).toMatchObject({
      error: { code: "cancelled", status: 499 },
    });
  });

  it("async: a retry gets 202 with the same id and its state", async () => {
    const panelist = uniqueModel("p");
    const body = fusion(panelist, uniqueModel("w"));
    const headers = { prefer: "respond-async", "idempotency-key": `job-${Math.random()}` };
    const first = await post(0, body, headers);
    const { id } = (await first.json()) as { id: string };
    expect(first.status).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    await until("completion", () => read(1, id), completed);
    const again = await post(1, body, headers);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe(`/api/v1/fusions/${id}`);
    expect(await again.json()).toMatchObject({ id, object: "fusion", status: "completed" });
    // Asking without respond-async is another request under the same key.
    expect((await post(1, body, { "idempotency-key": headers["idempotency-key"] })).status).toBe(422);
    expect(await callsTo(panelist)).toBe(1);
  });

  it("the same key with another body is 422; another API key's same key is its own; a refused request does not use the key", async () => {
    const panelist = uniqueModel("p");
    const key = `k-${Math.random()}`;
    // Refused before anything is stored (400): the key stays free.
    const invalid = await post(0, fusion(panelist, uniqueModel("w"), { fusion: { resume_grace_ms: -1 } }), {
      "idempotency-key": key,
    });
    expect(invalid.status).toBe(400);
    for (const bad of ["", "x".repeat(256), "naïve"]) {
      const res = await post(0, fusion(panelist, uniqueModel("w")), { "idempotency-key": bad });
      expect(res.status, bad).toBe(400);
      expect(await res.json()).toMatchObject({
        error: { code: 400, message: expect.stringContaining("Idempotency-Key") },
      });
    }

    const body = fusion(panelist, uniqueModel("w"), { stream: false });
    const first = await post(0, body, { "idempotency-key": key });
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const changed = await post(1, { ...body, temperature: 0.5 }, { "idempotency-key": key });
    expect(changed.status).toBe(422);
    expect(await changed.json()).toEqual({
      error: {
        code: 422,
        type: "unprocessable",
        message: `Idempotency-Key ${JSON.stringify(key)} was used with a different request body`,
      },
    });
    // The same JSON written differently (key order, spacing) is the same request.
    const respelled = await fetch(`${gw(1)}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth(), "idempotency-key": key },
      body: JSON.stringify(Object.fromEntries(Object.entries(body).reverse()), null, 2),
    });
    expect(respelled.headers.get("idempotent-replayed")).toBe("true");
    expect(respelled.headers.get("x-fusion-id")).toBe(first.headers.get("x-fusion-id"));

    const other = await post(1, body, { ...auth(OTHER_KEY), "idempotency-key": key });
    expect(other.status).toBe(200);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expect(other.headers.get("x-fusion-id")).not.toBe(first.headers.get("x-fusion-id"));
    expect(await callsTo(panelist)).toBe(2);
  });
});
