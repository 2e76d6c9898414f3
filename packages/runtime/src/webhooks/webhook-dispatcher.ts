import { randomUUID } from "node:crypto";
import { type WebhookJobData, type WebhookOutcome, webhookPayload } from "@fusion/wire";
import { Queue } from "bullmq";
import { parseEntry } from "../events/event-writer.ts";
import type { QueueShard } from "../jobs/queue-shards.ts";
import type { Logger } from "../logger.ts";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";
import { bullmqTelemetry } from "../tracing/tracing.ts";
import { WEBHOOK_FIELDS } from "./webhook-delivery.ts";
import { WEBHOOK_QUEUE, webhookJobOptions } from "./webhook-queue.ts";
import type { WebhookRetryPolicy } from "./webhook-retry.ts";

/** Outbox entries read at once: one page of commands in flight. */
const PAGE = 500;

export interface WebhookDispatcherOptions {
  redis: RedisClient;
  shards: readonly QueueShard[];
  logger: Logger;
  policy: WebhookRetryPolicy;
  intervalMs: number;
}

const outcomes = new Set(["completed", "failed", "cancelled"]);

/**
 * Moves due webhooks from each served shard's outbox into its `webhook` queue (see webhook-outbox.ts),
 * every `intervalMs`. Each round reads every fusion in the outbox (one HMGET each): the outbox holds
 * only fusions with a webhook that are running or just ended. Of all the judge workers serving a
 * shard, one sweeps it per interval: a sweep first takes the shard's lease (`SET NX PX intervalMs`),
 * so adding judge workers does not multiply the reads.
 */
export class WebhookDispatcher {
  readonly #o: WebhookDispatcherOptions;
  readonly #queues: Map<string, Queue>;
  readonly #leaseToken = randomUUID();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#o = options;
    this.#queues = new Map(
      options.shards.map((s) => {
        const queue = new Queue(WEBHOOK_QUEUE, {
          connection: options.redis,
          prefix: s.prefix,
          ...bullmqTelemetry(),
        });
        queue.on("error", (err: Error) =>
          options.logger.warn({ err: err.message, shard: s.index }, "webhook queue error"),
        );
        return [s.prefix, queue];
      }),
    );
  }

  start(): void {
    const round = async () => {
      for (const shard of this.#o.shards) {
        await this.sweep(shard.prefix).catch((err: unknown) =>
          this.#o.logger.warn({ err, shard: shard.index }, "could not read the webhook outbox"),
        );
      }
      if (!this.#stopped) this.#timer = setTimeout(round, this.#o.intervalMs);
    };
    this.#timer = setTimeout(round, 0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
  }

  /**
   * One round over a shard's outbox if no other dispatcher swept it within the interval: resolves to
   * how many webhooks it handed over, or `undefined` when another holds the shard's lease.
   */
  async sweep(shardPrefix: string): Promise<number | undefined> {
    const { redis, intervalMs } = this.#o;
    const lease = keys.webhookSweepLease(shardPrefix);
    const taken = await redis.set(lease, this.#leaseToken, "PX", Math.max(1, intervalMs), "NX");
    if (taken === null) return undefined;
    return this.dispatch(shardPrefix);
  }

  /** One round over a shard's outbox; resolves to how many webhooks it handed over. */
  async dispatch(shardPrefix: string): Promise<number> {
    const { redis } = this.#o;
    const outbox = keys.webhookOutbox(shardPrefix);
    await redis.zremrangebyscore(outbox, "-inf", String(Date.now()));
    let handed = 0;
    for (let start = 0; ; start += PAGE) {
      const ids = await redis.zrange(outbox, String(start), String(start + PAGE - 1));
      const moved = await Promise.all(ids.map((id) => this.#handOver(shardPrefix, outbox, id)));
      const removed = moved.filter((m) => m !== "waiting").length;
      handed += moved.filter((m) => m === "handed").length;
      // Removed entries shift the ranks after them down.
      start -= removed;
      if (ids.length < PAGE) return handed;
    }
  }

  async #handOver(
    shardPrefix: string,
    outbox: string,
    fusionId: string,
  ): Promise<"handed" | "dropped" | "waiting"> {
    const { redis } = this.#o;
    // `requested`: the model the request named (the completion's `model`); `model`: the writer's.
    const [url, state, status, requested, writer] = await redis.hmget(
      keys.meta(fusionId),
      WEBHOOK_FIELDS.url,
      WEBHOOK_FIELDS.state,
      "status",
      "requested",
      "model",
    );
    if (url && state === null) return "waiting";
    if (url && state === "due") {
      const last = (await redis.xrevrange(keys.events(fusionId), "+", "-", "COUNT", 1)) as Array<
        [string, string[]]
      >;
      const entry = last[0] ? parseEntry(last[0][0], last[0][1]) : undefined;
      const terminal = entry?.type === "final" || entry?.type === "error" ? entry : undefined;
      const outcome = (status && outcomes.has(status) ? status : "failed") as WebhookOutcome;
      const model = requested ?? writer ?? "";
      const payload = webhookPayload({ id: fusionId, model, outcome }, terminal);
      const data: WebhookJobData = { fusionId, url, payload: JSON.stringify(payload) };
      const queue = this.#queues.get(shardPrefix);
      if (!queue) throw new Error(`no webhook queue for ${shardPrefix}`);
      await queue.add("deliver", data, webhookJobOptions(fusionId, this.#o.policy));
      await redis.zrem(outbox, fusionId);
      this.#o.logger.debug({ fusionId, type: payload.type }, "webhook handed over");
      return "handed";
    }
    // Its records expired, or its webhook was sent already.
    await redis.zrem(outbox, fusionId);
    return "dropped";
  }
}
