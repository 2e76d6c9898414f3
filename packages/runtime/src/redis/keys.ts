/**
 * Redis keys and channels outside BullMQ. Per-fusion keys carry the fusion id as their hash tag, so
 * that on Redis Cluster they spread across slots while each fusion's own keys stay together.
 */
export const keys = {
  /** The Redis Stream of a fusion's output events. */
  events: (fusionId: string) => `fusion:{${fusionId}}:events`,
  /** Pub/sub channel that announces each new entry of the events stream. */
  eventsChannel: (fusionId: string) => `fusion:{${fusionId}}:live`,
  /** Who started a fusion and how (a hash): read by the endpoints that read or resume it. */
  meta: (fusionId: string) => `fusion:{${fusionId}}:meta`,
  /** How many clients read the fusion's stream right now, across gateways. */
  readers: (fusionId: string) => `fusion:{${fusionId}}:readers`,
  /** The turn steps (hash fields) whose text already reached the stream: a retried step must not repeat it. */
  emitted: (fusionId: string) => `fusion:{${fusionId}}:emitted`,
  /** Set when a fusion is cancelled; jobs that start later see it. */
  cancelled: (fusionId: string) => `fusion:{${fusionId}}:cancelled`,
};

/** Global channel over which cancellations reach every worker process. */
export const CANCEL_CHANNEL = "fusion:cancel";
