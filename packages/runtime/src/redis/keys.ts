/**
 * Redis keys and channels outside BullMQ. Per-fusion keys carry the fusion id as their hash tag, so
 * that on Redis Cluster they spread across slots while each fusion's own keys stay together.
 */
export const keys = {
  /** The Redis Stream of a fusion's output events. */
  events: (fusionId: string) => `fusion:{${fusionId}}:events`,
  /** Pub/sub channel that announces each new entry of the events stream. */
  eventsChannel: (fusionId: string) => `fusion:{${fusionId}}:live`,
  /**
   * Who started a fusion and how (a hash): read by the endpoints that read, resume or list it. The
   * gateway writes it; the event writer adds `status` and `cost` when the fusion's stream ends.
   */
  meta: (fusionId: string) => `fusion:{${fusionId}}:meta`,
  /** How many clients read the fusion's stream right now, across gateways. */
  readers: (fusionId: string) => `fusion:{${fusionId}}:readers`,
  /** The turn steps (hash fields) whose text already reached the stream: a retried step must not repeat it. */
  emitted: (fusionId: string) => `fusion:{${fusionId}}:emitted`,
  /** Set when a fusion is cancelled; jobs that start later see it. */
  cancelled: (fusionId: string) => `fusion:{${fusionId}}:cancelled`,
  /** How many tool calls the fusion's panelists and judge have run (or been refused): its budget's counter. */
  toolCalls: (fusionId: string) => `fusion:{${fusionId}}:tool-calls`,
  /** The caller's request (conversation, tools, parameters), stored once; the fusion's jobs refer to it. */
  conversation: (fusionId: string) => `fusion:{${fusionId}}:conversation`,
  /** The delivery attempts of the fusion's webhook (a list, the last 20), living as long as its meta. */
  webhookAttempts: (fusionId: string) => `fusion:{${fusionId}}:webhook-attempts`,
  /**
   * A queue shard's fusions with a webhook to send when they end (a sorted set scored by when their
   * records expire), under the shard's hash tag; see runtime `webhooks/webhook-outbox.ts`.
   */
  webhookOutbox: (shardPrefix: string) => `${shardPrefix}:webhook-outbox`,
  /** Held for one dispatch interval by the dispatcher that sweeps the shard's outbox (a string, PX). */
  webhookSweepLease: (shardPrefix: string) => `${shardPrefix}:webhook-sweep`,
  /**
   * The fusions one API key started (a sorted set of fusion ids scored by their creation, ms), for
   * the listing; the owner id is its hash tag, so owners spread over a Cluster's slots.
   */
  ownerFusions: (owner: string) => `fusion:owner:{${owner}}:fusions`,
  /**
   * The fusion one API key's `Idempotency-Key` started (a hash: fusion id, request fingerprint, state), by
   * the SHA-256 of the key (any printable text, braces included, stays out of the key's name). Its own
   * hash tag: read and written alone, so an owner's records spread over a Cluster's slots.
   */
  idempotency: (owner: string, keyDigest: string) => `fusion:idempotency:{${owner}:${keyDigest}}`,
  /** An admin dashboard session (by the SHA-256 of its cookie, never the cookie), with its expiry. */
  adminSession: (idDigest: string) => `admin:session:${idDigest}`,
  /** The deployment's secret of owner ids (HMAC of an API key), made once when OWNER_ID_SECRET is unset. */
  ownerIdSecret: () => "fusion:owner-id-secret",
};

/** Global channel over which cancellations reach every worker process. */
export const CANCEL_CHANNEL = "fusion:cancel";
