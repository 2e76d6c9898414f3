import { useEffect, useState } from "preact/hooks";

/**
 * A value that changes outside the components (a stream's events): read at once with `get`, while
 * its listeners hear of changes at most once per `notifyMs`, so a burst of events renders once.
 */
export class Store<T> {
  #value: T;
  #listeners = new Set<(value: T) => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #notifyMs: number;

  constructor(value: T, notifyMs = 16) {
    this.#value = value;
    this.#notifyMs = notifyMs;
  }

  get(): T {
    return this.#value;
  }

  set(next: T | ((value: T) => T)): void {
    const value = typeof next === "function" ? (next as (value: T) => T)(this.#value) : next;
    if (value === this.#value) return;
    this.#value = value;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      for (const listener of this.#listeners) listener(this.#value);
    }, this.#notifyMs);
  }

  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The store's value, rendering again when it changes. */
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get());
  useEffect(() => {
    setValue(store.get());
    return store.subscribe(setValue);
  }, [store]);
  return value;
}
