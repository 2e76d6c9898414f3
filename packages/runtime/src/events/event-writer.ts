import { type EventType, eventTypes, isTerminal, type PendingEvent, type StoredEvent } from "@fusion/wire";
import { keys } from "../redis/keys.ts";
import { LuaScript } from "../redis/lua-script.ts";
import type { RedisClient } from "../redis/redis.ts";

/** See append-events.lua. */
const appendEvents = new LuaScript<
  [
    events: string,
    meta: string,
    emitted: string,
    ttl: string,
    channel: string,
    status: string,
    cost: string,
    steps: string,
    ...pairs: string[],
  ],
  string
>("fusionAppendEvents", new URL("./append-events.lua", import.meta.url), 3);

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

const serialised = (e: PendingEvent): string =>
  typeof e.data === "string" ? e.data : JSON.stringify(e.data);

/** Events waiting for their fusion's append in flight, the turn steps they carry output of, and the callers waiting for them. */
interface Queued {
  events: PendingEvent[];
  steps: Set<string>;
  waiters: Array<{ resolve: (id: string) => void; reject: (err: unknown) => void }>;
  /** Set while the events wait for `appendSoon`'s linger, with no append in flight. */
  linger?: NodeJS.Timeout;
}

/** How long `appendSoon` holds events for what the fusion's stages report next. */
const APPEND_LINGER_MS = 10;

const idle = (): Queued => ({ events: [], steps: new Set(), waiters: [] });

/**
 * Appends a fusion's output events to its Redis Stream; each append also publishes the new entry
 * (with the id of the entry before it) on a per-fusion channel, so a gateway learns of new entries
 * without a blocking read per client, and can tell from `prev` when it missed one. Several events
 * given at once are appended atomically, in order. Nothing is appended after the stream's terminal
 * entry; the append that writes it records the fusion's outcome in its meta (see `outcomeOf`).
 *
 * At most one append per fusion is in flight from this process: what is appended meanwhile (the
 * panelists of one fusion reporting at once, progress beside the answer) waits and goes in the next
 * script call, in the order it was given. An idle fusion's append goes at once, so nothing waits
 * longer than one round trip it would have made anyway; a busy one costs one script call per round
 * trip instead of one per event. Each call resolves to the stream's last id after the script call
 * that carried its events, or rejects with that call's error.
 *
 * `appendSoon` (status updates) holds an idle fusion's events `lingerMs` first, so that the
 * updates of its panelists, or a status and the text after it, share one call; any other append in
 * that time, or `sendNow`, sends them at once, in order.
 */
export class EventWriter {
  readonly #redis: RedisClient;
  readonly #ttlSeconds: string;
  /** Fusions with an append in flight: what waits for it (empty when nothing does). */
  readonly #busy = new Map<string, Queued>();
  readonly #lingerMs: number;

  constructor(redis: RedisClient, ttlSeconds: number, lingerMs = APPEND_LINGER_MS) {
    this.#redis = redis;
    this.#ttlSeconds = String(ttlSeconds);
    this.#lingerMs = lingerMs;
  }

  append(fusionId: string, ...events: PendingEvent[]): Promise<string> {
    return this.#append(fusionId, events, undefined, false);
  }

  /** Appends like `append`; an idle fusion's events wait `lingerMs` for company first (see the class). */
  appendSoon(fusionId: string, ...events: PendingEvent[]): Promise<string> {
    if (this.#lingerMs <= 0 || this.#busy.has(fusionId))
      return this.#append(fusionId, events, undefined, true);
    const queued: Queued = { ...idle(), events: events.map((e) => ({ type: e.type, data: serialised(e) })) };
    queued.linger = setTimeout(() => this.sendNow(fusionId), this.#lingerMs);
    this.#busy.set(fusionId, queued);
    return new Promise((resolve, reject) => queued.waiters.push({ resolve, reject }));
  }

  /** Sends at once what `appendSoon` holds for the fusion (a stage that ends calls it). */
  sendNow(fusionId: string): void {
    const queued = this.#busy.get(fusionId);
    if (!queued?.linger) return;
    clearTimeout(queued.linger);
    queued.linger = undefined;
    this.#next(fusionId);
  }

  /**
   * Appends like `append`, and records in the fusion's emitted-steps hash (`keys.emitted`) that turn
   * step `step` sent output, in the same script call: the record exists if and only if these events
   * reached the stream. A retried step reads it to know whether its client already got part of an
   * answer (a record written before the text, as a separate command, would cost a round trip and
   * could outlive a write that never happened).
   */
  appendStepOutput(fusionId: string, step: string, ...events: PendingEvent[]): Promise<string> {
    return this.#append(fusionId, events, step, false);
  }

  #append(
    fusionId: string,
    events: PendingEvent[],
    step: string | undefined,
    soon: boolean,
  ): Promise<string> {
    const queued = this.#busy.get(fusionId);
    if (queued) {
      // Serialised now: what the caller changes after this call is not what it appended.
      for (const e of events) queued.events.push({ type: e.type, data: serialised(e) });
      if (step) queued.steps.add(step);
      const sent = new Promise<string>((resolve, reject) => queued.waiters.push({ resolve, reject }));
      // What lingers goes now, with these events after it (unless these may linger too).
      if (!soon) this.sendNow(fusionId);
      return sent;
    }
    this.#busy.set(fusionId, idle());
    const sent = this.#send(fusionId, events, step ? [step] : []);
    void sent.then(
      () => this.#next(fusionId),
      () => this.#next(fusionId),
    );
    return sent;
  }

  /** Sends what waited for the append that just ended, or marks the fusion idle. */
  #next(fusionId: string): void {
    const queued = this.#busy.get(fusionId);
    if (!queued || queued.waiters.length === 0) {
      this.#busy.delete(fusionId);
      return;
    }
    this.#busy.set(fusionId, idle());
    this.#send(fusionId, queued.events, [...queued.steps]).then(
      (id) => {
        for (const w of queued.waiters) w.resolve(id);
        this.#next(fusionId);
      },
      (err: unknown) => {
        for (const w of queued.waiters) w.reject(err);
        this.#next(fusionId);
      },
    );
  }

  #send(fusionId: string, events: PendingEvent[], steps: string[]): Promise<string> {
    const pairs: string[] = [];
    for (const e of events) pairs.push(e.type, serialised(e));
    return appendEvents.run(
      this.#redis,
      keys.events(fusionId),
      keys.meta(fusionId),
      keys.emitted(fusionId),
      this.#ttlSeconds,
      keys.eventsChannel(fusionId),
      ...outcomeOf(events),
      steps.join(" "),
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
