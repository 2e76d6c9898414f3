import { isTerminal, type StoredEvent } from "@fusion/wire";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";
import { compareIds, parseEntry, parseLiveMessage } from "./event-writer.ts";

interface Subscription {
  fusionId: string;
  /** The last entry id queued for the reader (taken, or waiting in `queue`). */
  lastId: string;
  /** Entries ready for the reader: one page at most, or the live entries that fit `maxQueuedBytes`. */
  queue: StoredEvent[];
  queuedBytes: number;
  /** Mean size of the entries of the last page, to size the next one. */
  entryBytes: number;
  /** The stream may hold entries after `lastId` that are not queued: read a page once the queue is taken. */
  stale: boolean;
  /** Set while a page read runs; live messages then only mark the subscription stale. */
  reading: boolean;
  /** Resolves the reader's pending wait. */
  wake: (() => void) | undefined;
}

export interface ReadOptions {
  /** Resume after this entry id; "0-0" replays from the start. */
  afterId?: string;
  /** Called when no event arrived for `idleMs`; the relay also re-reads the stream then, to heal any gap. */
  onIdle?: () => void;
  idleMs?: number;
  signal?: AbortSignal;
}

export interface EventRelayOptions {
  /** Most entries one read of the stream takes (`XRANGE … COUNT`). Default 16. */
  pageSize?: number;
  /**
   * Bytes queued per reader: live entries beyond it are read from the stream later instead, and a page
   * takes fewer entries when the last ones were large (at least one; the first page is one). Default 64 KiB.
   */
  maxQueuedBytes?: number;
}

/**
 * Relays fusion event streams to many concurrent readers over one subscriber connection per process.
 * Each reader pulls: the relay reads the next page of the stream (`XRANGE … COUNT pageSize`) only when
 * the reader has taken the last one, so a reader that does not read costs one page at most. A live
 * message is queued only when it follows the last queued entry and fits the reader's bounded queue;
 * otherwise it only wakes the reader, which reads the stream from its last entry. A gap, a reconnect or
 * an idle period also makes the reader read the stream, so no entry is lost or repeated.
 *
 * A reader resuming after the stream's terminal entry (or after any id past a finished stream) gets
 * that terminal entry at once, so it ends instead of waiting for entries that will never come.
 */
export class EventRelay {
  readonly #sub: RedisClient;
  readonly #cmd: RedisClient;
  readonly #pageSize: number;
  readonly #maxQueuedBytes: number;
  readonly #subs = new Map<string, Set<Subscription>>();
  /** One SUBSCRIBE per channel; every reader of the channel waits for it. */
  readonly #subscribed = new Map<string, Promise<unknown>>();

  constructor(subscriber: RedisClient, command: RedisClient, options: EventRelayOptions = {}) {
    this.#sub = subscriber;
    this.#cmd = command;
    this.#pageSize = options.pageSize ?? 16;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024;
    this.#sub.on("message", (channel: string, message: string) => this.#onMessage(channel, message));
    // ioredis re-subscribes after a reconnect; messages published meanwhile are read back from the stream.
    this.#sub.on("ready", () => {
      for (const set of this.#subs.values()) for (const s of set) this.#markStale(s);
    });
  }

  get size(): number {
    let n = 0;
    for (const set of this.#subs.values()) n += set.size;
    return n;
  }

  /** Bytes of entries queued for every reader of this process (bounded by page and queue size per reader). */
  get queuedBytes(): number {
    let n = 0;
    for (const set of this.#subs.values()) for (const s of set) n += s.queuedBytes;
    return n;
  }

  async *read(fusionId: string, options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    const channel = keys.eventsChannel(fusionId);
    const sub: Subscription = {
      fusionId,
      lastId: options.afterId ?? "0-0",
      queue: [],
      queuedBytes: 0,
      entryBytes: 0,
      stale: true,
      reading: false,
      wake: undefined,
    };
    let set = this.#subs.get(channel);
    if (!set) {
      set = new Set();
      this.#subs.set(channel, set);
    }
    set.add(sub);
    const onAbort = () => sub.wake?.();
    options.signal?.addEventListener("abort", onAbort);
    try {
      let subscribed = this.#subscribed.get(channel);
      if (!subscribed) {
        subscribed = this.#sub.subscribe(channel);
        this.#subscribed.set(channel, subscribed);
      }
      await subscribed;
      const idleMs = options.idleMs ?? 15_000;
      // A resume (or an idle period) that finds nothing new checks whether the stream already ended.
      let checkEnd = sub.lastId !== "0-0";
      for (;;) {
        if (options.signal?.aborted) return;
        const next = sub.queue.shift();
        if (next) {
          sub.queuedBytes -= next.raw.length;
          yield next;
          if (isTerminal(next.type)) return;
          continue;
        }
        if (sub.stale) {
          const read = await this.#readPage(sub);
          if (read > 0) checkEnd = false;
          else if (checkEnd) {
            checkEnd = false;
            const before = sub.lastId;
            const end = await this.#endAtOrBefore(sub.fusionId, before);
            // Live entries queued while the end was read come first: they end the stream themselves.
            if (end && sub.queue.length === 0 && sub.lastId === before) {
              yield end;
              return;
            }
          }
          continue;
        }
        const woke = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), idleMs);
          sub.wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        sub.wake = undefined;
        if (!woke) {
          options.onIdle?.();
          sub.stale = true;
          checkEnd = true;
        }
      }
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      sub.queue = [];
      set.delete(sub);
      if (set.size === 0) {
        this.#subs.delete(channel);
        this.#subscribed.delete(channel);
        await this.#sub.unsubscribe(channel).catch(() => {});
      }
    }
  }

  #onMessage(channel: string, message: string): void {
    const set = this.#subs.get(channel);
    if (!set) return;
    const live = parseLiveMessage(message);
    if (!live) return;
    for (const sub of set) {
      if (sub.reading || sub.stale) {
        this.#markStale(sub);
        continue;
      }
      if (compareIds(live.stored.id, sub.lastId) <= 0) continue;
      const fits =
        sub.queue.length < this.#pageSize && sub.queuedBytes + live.stored.raw.length <= this.#maxQueuedBytes;
      // A missed entry (prev is not the last one queued) or a full queue: read the stream instead.
      if (live.prev !== sub.lastId || !fits) {
        this.#markStale(sub);
        continue;
      }
      this.#queue(sub, live.stored);
      sub.wake?.();
    }
  }

  #markStale(sub: Subscription): void {
    sub.stale = true;
    sub.wake?.();
  }

  #queue(sub: Subscription, stored: StoredEvent): void {
    sub.lastId = stored.id;
    sub.queue.push(stored);
    sub.queuedBytes += stored.raw.length;
  }

  /** Queues the next page of the stream after `lastId`; returns how many entries it queued. */
  async #readPage(sub: Subscription): Promise<number> {
    sub.stale = false;
    sub.reading = true;
    // The first page is one entry: its size tells how many the next may take.
    const count =
      sub.entryBytes > 0
        ? Math.max(1, Math.min(this.#pageSize, Math.floor(this.#maxQueuedBytes / sub.entryBytes)))
        : 1;
    try {
      const entries = (await this.#cmd.xrange(
        keys.events(sub.fusionId),
        `(${sub.lastId}`,
        "+",
        "COUNT",
        count,
      )) as Array<[string, string[]]>;
      let queued = 0;
      let bytes = 0;
      for (const [id, fields] of entries) {
        const stored = parseEntry(id, fields);
        if (stored && compareIds(id, sub.lastId) > 0) {
          this.#queue(sub, stored);
          queued++;
          bytes += stored.raw.length;
        }
      }
      if (queued > 0) sub.entryBytes = Math.ceil(bytes / queued);
      // A full page: the stream may hold more.
      if (entries.length >= count) sub.stale = true;
      return queued;
    } finally {
      sub.reading = false;
    }
  }

  /** The stream's terminal entry when it is the last one and the reader is at or past it. */
  async #endAtOrBefore(fusionId: string, lastId: string): Promise<StoredEvent | undefined> {
    const last = (await this.#cmd.xrevrange(keys.events(fusionId), "+", "-", "COUNT", 1)) as Array<
      [string, string[]]
    >;
    const stored = last[0] ? parseEntry(last[0][0], last[0][1]) : undefined;
    if (!stored || !isTerminal(stored.type) || compareIds(stored.id, lastId) > 0) return undefined;
    return stored;
  }
}
