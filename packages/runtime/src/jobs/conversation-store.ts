import {
  type FusionConversation,
  type FusionConversationInput,
  fusionConversationSchema,
} from "@fusion/wire";
import { UnrecoverableError } from "bullmq";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";

/**
 * The caller's request, stored once per fusion under the fusion's hash tag with the fusion's TTL
 * (written by the gateway before the jobs). On a Cluster the jobs (the queue prefix's slot) and this
 * key (the fusion's slot) differ, so it is always written and read with a command of its own.
 */
export async function storeConversation(
  redis: RedisClient,
  fusionId: string,
  conversation: FusionConversationInput,
  ttlSeconds: number,
): Promise<void> {
  await redis.set(keys.conversation(fusionId), JSON.stringify(conversation), "EX", ttlSeconds);
}

/** The fusion's stored request; one that is gone (expired) or unreadable fails the job for good. */
export async function loadConversation(redis: RedisClient, fusionId: string): Promise<FusionConversation> {
  const raw = await redis.get(keys.conversation(fusionId));
  if (raw === null) throw new UnrecoverableError(`the conversation of fusion ${fusionId} is gone (expired)`);
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
  return parsed.data;
}
