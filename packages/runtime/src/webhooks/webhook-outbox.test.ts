import { type RedisFixture, startRedis } from "@fusion/testing";
import type { WebhookJobData, WebhookPayload } from "@fusion/wire";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelAndEndFusion } from "../cancel.ts";
import { EventWriter } from "../events/event-writer.ts";
import { queueShards } from "../jobs/queue-shards.ts";
import { createLogger } from "../logger.ts";
import { keys } from "../redis/keys.ts";
import { createRedis } from "../redis/redis.ts";
import { readWebhookDelivery, recordWebhookAttempt, WEBHOOK_ATTEMPTS_KEPT } from "./webhook-delivery.ts";
import { WebhookDispatcher } from "./webhook-dispatcher.ts";
import { armWebhook } from "./webhook-outbox.ts";
import { WEBHOOK_QUEUE } from "./webhook-queue.ts";

/**
 * The outbox's hand-over on a real Redis: the scripts that end a fusion's stream mark its webhook due,
 * and the dispatcher moves exactly the due ones into the shard's `webhook` queue, once.
 */
let fixture: RedisFixture;
let redis: Redis;
let writer: EventWriter;
let dispatcher: WebhookDispatcher;
let queue: Queue<WebhookJobData>;
const prefix = `{webhook-test-${process.pid}}`;
const [shard] = queueShards(prefix, 1);
const policy = { baseMs: 1000, maxDelayMs: 60_000, retryForMs: 10_000 };
let seq = 0;

beforeAll(async () => {
  fixture = await startRedis();
  redis = createRedis(fixture.url, "commands", "test-webhook-outbox");
  writer = new EventWriter(redis, 120);
  if (!shard) throw new Error("no shard");
  dispatcher = new WebhookDispatcher({
    redis,
    shards: [shard],
    logger: createLogger("test", "silent"),
    policy,
    intervalMs: 60_000,
  });
  queue = new Queue(WEBHOOK_QUEUE, { connection: redis, prefix });
});

afterAll(async () => {
  await dispatcher?.stop();
  await queue?.obliterate({ force: true });
  await queue?.close();
  redis?.disconnect();
  await fixture?.close();
});

/** A fusion accepted with a webhook: its meta names it and the shard's outbox holds it. */
async function fusionWithWebhook(url = "https://hooks.example.com/f"): Promise<string> {
  const id = `wh-${process.pid}-${++seq}`;
  await armWebhook(redis, prefix, id, Date.now() + 60_000);
  const meta = { owner: "o", created: "1", requested: "openrouter/fusion", model: "vendor/writer" };
  await redis.hset(keys.meta(id), { ...meta, webhook: url });
  await redis.expire(keys.meta(id), 300);
  return id;
}

const completion = { id: "x", object: "chat.completion", choices: [{ message: { content: "hi" } }] };
const outbox = () => redis.zrange(keys.webhookOutbox(prefix), "0", "-1");

describe("the webhook outbox", () => {
  it("hands over nothing while a fusion runs, then its completion once its final entry is written", async () => {
    const id = await fusionWithWebhook();
    await writer.append(id, { type: "chunk", data: { choices: [] } });
    expect(await dispatcher.dispatch(prefix)).toBe(0);
    expect(await outbox()).toContain(id);
    expect((await readWebhookDelivery(redis, id))?.status).toBe("pending");

    await writer.append(id, { type: "final", data: { completion } });
    expect(await redis.hget(keys.meta(id), "webhook_state")).toBe("due");
    expect(await dispatcher.dispatch(prefix)).toBe(1);
    expect(await outbox()).not.toContain(id);
    const job = await queue.getJob(id);
    expect(job?.data.url).toBe("https://hooks.example.com/f");
    expect(job?.opts.attempts).toBe(4); // 1 s, 2 s, 4 s of retries fit in 10 s
    const payload = JSON.parse(job?.data.payload ?? "{}") as WebhookPayload;
    expect(payload).toEqual({
      type: "fusion.completed",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { id, status: "completed", model: "openrouter/fusion", completion },
    });
    // Handed over once: another round finds nothing.
    expect(await dispatcher.dispatch(prefix)).toBe(0);
  });

  it("notifies a failed and a cancelled fusion with their errors", async () => {
    const failed = await fusionWithWebhook();
    await writer.append(failed, { type: "error", data: { status: 502, message: "upstream down" } });
    const cancelled = await fusionWithWebhook();
    await cancelAndEndFusion(redis, cancelled, { created: 1, model: "vendor/writer", streamTtlSeconds: 60 });
    expect(await dispatcher.dispatch(prefix)).toBe(2);
    const payloadOf = async (id: string) =>
      JSON.parse((await queue.getJob(id))?.data.payload ?? "{}") as WebhookPayload;
    expect(await payloadOf(failed)).toMatchObject({
      type: "fusion.failed",
      data: { status: "failed", error: { code: 502, message: "upstream down" } },
    });
    expect(await payloadOf(cancelled)).toMatchObject({
      type: "fusion.cancelled",
      data: { status: "cancelled", error: { code: 499, message: "the fusion was cancelled" } },
    });
  });

  it("leaves fusions without a webhook alone, and drops entries whose fusion's records expired", async () => {
    const plain = `plain-${process.pid}-${++seq}`;
    await redis.hset(keys.meta(plain), { owner: "o", created: "1" });
    await writer.append(plain, { type: "final", data: { completion } });
    expect(await redis.hget(keys.meta(plain), "webhook_state")).toBeNull();

    const expired = await fusionWithWebhook();
    await redis.del(keys.meta(expired));
    const lapsed = `lapsed-${process.pid}-${++seq}`;
    await armWebhook(redis, prefix, lapsed, Date.now() - 1);
    expect(await dispatcher.dispatch(prefix)).toBe(0);
    expect(await outbox()).toEqual([]);
    expect(await queue.getJob(expired)).toBeUndefined();
  });

  it("is swept by one dispatcher per interval, whichever takes the shard's lease", async () => {
    if (!shard) throw new Error("no shard");
    const other = new WebhookDispatcher({
      redis,
      shards: [shard],
      logger: createLogger("test", "silent"),
      policy,
      intervalMs: 300,
    });
    const first = new WebhookDispatcher({
      redis,
      shards: [shard],
      logger: createLogger("test", "silent"),
      policy,
      intervalMs: 300,
    });
    try {
      const id = await fusionWithWebhook();
      await writer.append(id, { type: "final", data: { completion } });
      expect(await first.sweep(prefix)).toBe(1);
      // Within the interval the lease is the first one's: the other reads nothing.
      expect(await other.sweep(prefix)).toBeUndefined();
      expect(await redis.pttl(keys.webhookSweepLease(prefix))).toBeGreaterThan(0);
      // Once it lapses, the next sweep is anyone's.
      await redis.del(keys.webhookSweepLease(prefix));
      expect(await other.sweep(prefix)).toBe(0);
    } finally {
      await Promise.all([first.stop(), other.stop()]);
    }
  });

  it("keeps the last attempts with the meta's lifetime, and the final state", async () => {
    const id = await fusionWithWebhook();
    for (let i = 0; i < WEBHOOK_ATTEMPTS_KEPT + 3; i++) {
      await recordWebhookAttempt(redis, id, { at: "t", status: 500 + i, duration_ms: 1 }, undefined);
    }
    await recordWebhookAttempt(redis, id, { at: "t", status: 200, duration_ms: 1 }, "delivered");
    const delivery = await readWebhookDelivery(redis, id);
    expect(delivery?.status).toBe("delivered");
    expect(delivery?.attempts).toHaveLength(WEBHOOK_ATTEMPTS_KEPT);
    expect(delivery?.attempts.at(-1)?.status).toBe(200);
    expect(delivery?.attempts[0]?.status).toBe(504);
    // Both expire at the same moment (the meta's TTL is read first: it can only be longer).
    const metaTtl = await redis.pttl(keys.meta(id));
    const ttl = await redis.pttl(keys.webhookAttempts(id));
    expect(ttl).toBeGreaterThan(metaTtl - 1000);
    expect(ttl).toBeLessThanOrEqual(metaTtl);

    // A fusion whose records expired records nothing (and creates no key without expiry).
    await redis.del(keys.meta(id), keys.webhookAttempts(id));
    expect(await recordWebhookAttempt(redis, id, { at: "t", status: 200, duration_ms: 1 }, "delivered")).toBe(
      false,
    );
    expect(await redis.exists(keys.webhookAttempts(id))).toBe(0);
  });
});
