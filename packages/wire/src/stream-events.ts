/**
 * A fusion's output travels through one Redis Stream per fusion. Workers append entries; any gateway
 * relays them. Each append also publishes the new entry (with the id of the entry before it) on a
 * per-fusion channel, so a gateway learns of new entries without a blocking read per client, and can
 * tell from `prev` when it missed one and must read the stream to catch up.
 *
 * Entries hold what the client receives, already serialised: the gateway relays `chunk` and
 * `progress` payloads byte for byte and parses only the terminal entry of a non-streaming request.
 *
 * - `chunk`: a `chat.completion.chunk` JSON object.
 * - `progress`: a `fusion.progress` JSON object (see `ProgressEvent`).
 * - `final`: `{ completion }`, the whole `chat.completion`; ends the stream.
 * - `error`: `{ status, message }`; ends the stream (the error chunk precedes it as a `chunk`).
 */
export const eventTypes = ["chunk", "progress", "final", "error"] as const;
export type EventType = (typeof eventTypes)[number];

export interface StoredEvent {
  id: string;
  type: EventType;
  /** The entry's payload as stored: a JSON text. */
  raw: string;
}

export const isTerminal = (type: EventType) => type === "final" || type === "error";

export interface PendingEvent {
  type: EventType;
  /** A JSON text, or a value to serialise. */
  data: string | object;
}
