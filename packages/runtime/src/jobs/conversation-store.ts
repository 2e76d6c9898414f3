import {
  type FusionConversation,
  type FusionConversationInput,
  fusionConversationSchema,
} from "@fusion/wire";
import { UnrecoverableError } from "bullmq";
import type { ChainableCommander } from "ioredis";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";

/**
 * The caller's request, stored once per fusion under the fusion's hash tag with the fusion's TTL
 * (written by the gateway before the jobs). On a Cluster the jobs (the queue prefix's slot) and this
 * key (the fusion's slot) differ, so it is never written or read by a job's command.
 */
export async function storeConversation(
  redis: RedisClient,
  fusionId: string,
  conversation: FusionConversationInput,
  ttlSeconds: number,
): Promise<void> {
  await redis.set(keys.conversation(fusionId), JSON.stringify(conversation), "EX", ttlSeconds);
}

/**
 * Queues the write of `storeConversation` on `tx`, a transaction on the fusion's own keys (its meta,
 * same hash tag), so that the gateway writes both in one round trip.
 */
export function queueConversation(
  tx: ChainableCommander,
  fusionId: string,
  conversation: FusionConversationInput,
  ttlSeconds: number,
): ChainableCommander {
  return tx.set(keys.conversation(fusionId), JSON.stringify(conversation), "EX", ttlSeconds);
}

/** A fusion's stored request, with whether the fusion was cancelled when it was read. */
export interface LoadedConversation {
  conversation: FusionConversation;
  cancelled: boolean;
}

/**
 * The fusion's stored request, and its cancel key, in one round trip (both under the fusion's hash
 * tag); a request that is gone (expired) or unreadable fails the job for good.
 */
export async function loadConversation(redis: RedisClient, fusionId: string): Promise<LoadedConversation> {
  const replies = await redis
    .pipeline()
    .get(keys.conversation(fusionId))
    .exists(keys.cancelled(fusionId))
    .exec();
  const [[getErr, raw] = [], [existsErr, exists] = []] = replies ?? [];
  if (getErr) throw getErr;
  if (existsErr) throw existsErr;
  if (typeof raw !== "string")
    throw new UnrecoverableError(`the conversation of fusion ${fusionId} is gone (expired)`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new UnrecoverableError(`the conversation of fusion ${fusionId} is not JSON`);
  }
  const parsed = fusionConversationSchema.safeParse(json);
  if (!parsed.success) {
    throw new UnrecoverableError(`invalid conversation of fusion ${fusionId}: ${parsed.error.message}`);
  }
  return { conversation: parsed.data, cancelled: exists === 1 };
}
