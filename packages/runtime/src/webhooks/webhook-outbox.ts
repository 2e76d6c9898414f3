import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";

/**
 * The outbox of a queue shard's webhooks, and why it has two parts. A fusion's terminal entry is
 * written by a Lua script (append-events.lua, cancel-fusion.lua) that may only touch keys of the
 * fusion's own slot, so that script cannot add the fusion to any shared list. Instead:
 *
 * 1. the gateway, when it accepts a fusion with a webhook, adds its id to the outbox of its queue
 *    shard (`keys.webhookOutbox`, a sorted set under the shard's hash tag, scored by when the fusion's
 *    records expire), before the fusion's jobs exist, so before it can end;
 * 2. the script that writes the terminal entry marks the webhook `due` in the fusion's meta, in the
 *    same step: a fusion that ended has its webhook due, whatever process dies after;
 * 3. the judge workers' dispatcher reads the outbox, hands each fusion whose webhook is due to the
 *    shard's `webhook` queue (job id = fusion id: a repeated hand-over adds nothing), then removes it
 *    from the outbox; entries whose fusion's records expired (it never ended) are dropped.
 *
 * So a webhook is handed over at least once for every fusion that ends while its records live.
 */
export async function armWebhook(
  redis: RedisClient,
  shardPrefix: string,
  fusionId: string,
  untilMs: number,
): Promise<void> {
  await redis.zadd(keys.webhookOutbox(shardPrefix), untilMs, fusionId);
}
