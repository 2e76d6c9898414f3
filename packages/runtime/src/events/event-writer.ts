import { type EventType, eventTypes, isTerminal, type PendingEvent, type StoredEvent } from "@fusion/wire";
import { keys } from "../redis/keys.ts";
import { LuaScript } from "../redis/lua-script.ts";
import type { RedisClient } from "../redis/redis.ts";

/** See append-events.lua. */
const appendEvents = new LuaScript<
  [
    events: string,
    meta: string,
    ttl: string,
    channel: string,
    status: string,
    cost: string,
    ...pairs: string[],
  ],
  string
>("fusionAppendEvents", new URL("./append-events.lua", import.meta.url), 2);

/**
 * How a fusion ended, as its meta records it (hash fields `status` and `cost`) for the listing:
 * `completed` with the completion's `usage.cost`, `cancelled` (an `error` entry marked `cancelled`),
 * or `failed`. Empty strings when the events do not end the stream.
 */
function outcomeOf(events: PendingEvent[]): [status: string, cost: string] {
  const end = events.find((e) => isTerminal(e.type));
  if (!end) return ["", ""];
  let data: unknown = end.data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      data = undefined;
    }
  }
  if (end.type === "error") {
    return [(data as { cancelled?: unknown } | undefined)?.cancelled === true ? "cancelled" : "failed", ""];
  }
  const cost = (data as { completion?: { usage?: { cost?: unknown } } } | undefined)?.completion?.usage?.cost;
  return ["completed", typeof cost === "number" && Number.isFinite(cost) ? String(cost) : ""];
}

/**
 * Appends a fusion's output events to its Redis Stream; each append also publishes the new entry
 * (with the id of the entry before it) on a per-fusion channel, so a gateway learns of new entries
 * without a blocking read per client, and can tell from `prev` when it missed one. Several events
 * given at once are appended atomically, in order. Nothing is appended after the stream's terminal
 * entry; the append that writes it records the fusion's outcome in its meta (see `outcomeOf`).
 */
export class EventWriter {
  readonly #redis: RedisClient;
  readonly #ttlSeconds: string;

  constructor(redis: RedisClient, ttlSeconds: number) {
    this.#redis = redis;
    this.#ttlSeconds = String(ttlSeconds);
  }

  append(fusionId: string, ...events: PendingEvent[]): Promise<string> {
    const pairs: string[] = [];
    for (const e of events) pairs.push(e.type, typeof e.data === "string" ? e.data : JSON.stringify(e.data));
    return appendEvents.run(
      this.#redis,
      keys.events(fusionId),
      keys.meta(fusionId),
      this.#ttlSeconds,
      keys.eventsChannel(fusionId),
      ...outcomeOf(events),
      ...pairs,
    );
  }
}

const isEventType = (t: string | undefined): t is EventType =>
  (eventTypes as readonly string[]).includes(t ?? "");

export function parseEntry(id: string, fields: string[]): StoredEvent | undefined {
  let type: string | undefined;
  let raw: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "t") type = fields[i + 1];
    else if (fields[i] === "d") raw = fields[i + 1];
  }
  if (!isEventType(type) || raw === undefined || !STREAM_ID.test(id)) return undefined;
  return { id, type, raw };
}

const STREAM_ID = /^\d+-\d+$/;

/** Parses a live message `id|prev|type|data`; anything malformed is ignored (undefined). */
export function parseLiveMessage(message: string): { prev: string; stored: StoredEvent } | undefined {
  const a = message.indexOf("|");
  const b = message.indexOf("|", a + 1);
  const c = message.indexOf("|", b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const id = message.slice(0, a);
  const prev = message.slice(a + 1, b);
  const type = message.slice(b + 1, c);
  if (!STREAM_ID.test(id) || !STREAM_ID.test(prev) || !isEventType(type)) return undefined;
  return { prev, stored: { id, type, raw: message.slice(c + 1) } };
}

/** Orders Redis Stream ids ("ms-seq"). */
export function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  if (am.length !== bm.length) return am.length < bm.length ? -1 : 1;
  if (am !== bm) return am < bm ? -1 : 1;
  if (as.length !== bs.length) return as.length < bs.length ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** Accepts a Last-Event-ID: a stream entry id, else undefined. */
export function parseEventId(value: string | null | undefined): string | undefined {
  const v = value?.trim();
  return v && STREAM_ID.test(v) ? v : undefined;
}
