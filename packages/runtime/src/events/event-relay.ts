import { isTerminal, type StoredEvent } from "@fusion/wire";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";
import { compareIds, parseEntry, parseLiveMessage } from "./event-writer.ts";

interface Subscription {
  fusionId: string;
  lastId: string;
  /** Events ready for the consumer. */
  queue: StoredEvent[];
  /** Resolves the consumer's pending wait. */
  wake: (() => void) | undefined;
  /** Set while a catch-up read runs; live messages are buffered meanwhile. */
  catchingUp: Promise<void> | undefined;
  buffered: Array<{ prev: string; stored: StoredEvent }>;
  done: boolean;
  failed: Error | undefined;
}

export interface ReadOptions {
  /** Resume after this entry id; "0-0" replays from the start. */
  afterId?: string;
  /** Called when no event arrived for `idleMs`; the relay also re-reads the stream then, to heal any gap. */
  onIdle?: () => void;
  idleMs?: number;
  signal?: AbortSignal;
}

/**
 * Relays fusion event streams to many concurrent readers over one subscriber connection per process.
 * A reader subscribes first, then reads what the stream already holds, then follows live messages;
 * a live message whose `prev` is not the last id seen, a reconnect, or an idle period triggers a
 * catch-up read, so no entry is lost or repeated.
 */
export class EventRelay {
  readonly #sub: RedisClient;
  readonly #cmd: RedisClient;
  readonly #subs = new Map<string, Set<Subscription>>();
  /** One SUBSCRIBE per channel; every reader of the channel waits for it. */
  readonly #subscribed = new Map<string, Promise<unknown>>();

  constructor(subscriber: RedisClient, command: RedisClient) {
    this.#sub = subscriber;
    this.#cmd = command;
    this.#sub.on("message", (channel: string, message: string) => this.#onMessage(channel, message));
    // ioredis re-subscribes after a reconnect; messages published meanwhile are read back from the stream.
    this.#sub.on("ready", () => {
      for (const set of this.#subs.values()) for (const s of set) this.#catchUp(s);
    });
  }

  get size(): number {
    let n = 0;
    for (const set of this.#subs.values()) n += set.size;
    return n;
  }

  async *read(fusionId: string, options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    const channel = keys.eventsChannel(fusionId);
    const sub: Subscription = {
      fusionId,
      lastId: options.afterId ?? "0-0",
      queue: [],
      wake: undefined,
      catchingUp: undefined,
      buffered: [],
      done: false,
      failed: undefined,
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
      await this.#catchUp(sub);
      const idleMs = options.idleMs ?? 15_000;
      for (;;) {
        if (options.signal?.aborted) return;
        const next = sub.queue.shift();
        if (next) {
          yield next;
          if (isTerminal(next.type)) return;
          continue;
        }
        if (sub.failed) throw sub.failed;
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
          await this.#catchUp(sub);
        }
      }
    } finally {
      sub.done = true;
      options.signal?.removeEventListener("abort", onAbort);
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
      if (sub.catchingUp) {
        sub.buffered.push(live);
        continue;
      }
      if (compareIds(live.stored.id, sub.lastId) <= 0) continue;
      if (live.prev !== sub.lastId && compareIds(live.prev, sub.lastId) > 0) {
        // An entry between the last one seen and this one was missed: read the stream.
        void this.#catchUp(sub);
        continue;
      }
      this.#deliver(sub, live.stored);
    }
  }

  #deliver(sub: Subscription, stored: StoredEvent): void {
    sub.lastId = stored.id;
    sub.queue.push(stored);
    sub.wake?.();
  }

  #catchUp(sub: Subscription): Promise<void> {
    if (sub.catchingUp) return sub.catchingUp;
    const run = async () => {
      try {
        const entries = (await this.#cmd.xrange(keys.events(sub.fusionId), `(${sub.lastId}`, "+")) as Array<
          [string, string[]]
        >;
        for (const [id, fields] of entries) {
          const stored = parseEntry(id, fields);
          if (stored && compareIds(id, sub.lastId) > 0) this.#deliver(sub, stored);
        }
      } catch (err) {
        sub.failed = err as Error;
      } finally {
        sub.catchingUp = undefined;
        const buffered = sub.buffered;
        sub.buffered = [];
        for (const live of buffered) {
          if (compareIds(live.stored.id, sub.lastId) <= 0) continue;
          if (compareIds(live.prev, sub.lastId) > 0) {
            void this.#catchUp(sub);
            break;
          }
          this.#deliver(sub, live.stored);
        }
        sub.wake?.();
      }
    };
    sub.catchingUp = run();
    return sub.catchingUp;
  }
}
