import { readFileSync } from "node:fs";

/** What running a script needs of a connection: a single Redis and a Cluster both have it. */
interface ScriptHost {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
}

/** Every script made in this process: `defineLuaScripts` registers them all on a new connection. */
const scripts = new Set<LuaScript<never, unknown>>();

/**
 * Registers every Lua script on a connection just made, before it runs any command (`createRedis`
 * does it): ioredis copies a connection's scripts into each pipeline when the pipeline is made, so a
 * script defined while an auto-pipeline is pending would be missing from it.
 */
export function defineLuaScripts(redis: ScriptHost): void {
  for (const script of scripts) script.define(redis);
}

/**
 * A Lua script kept in its own `.lua` file: read once per process, registered on each connection with
 * ioredis `defineCommand`, and from then on run by hash: EVALSHA, falling back to EVAL on a connection
 * whose Redis does not hold it yet (a restart, a failover). Works the same on a single Redis and on a
 * Cluster (every key of one call must then share a slot). One script per atomic operation; each file
 * says what its KEYS and ARGV are.
 */
export class LuaScript<Args extends Array<string | number>, Result = unknown> {
  readonly #command: string;
  readonly #file: URL;
  readonly #numberOfKeys: number;
  readonly #defined = new WeakSet<ScriptHost>();
  #lua: string | undefined;

  /** `command` names the connection's new method: unique per script, never a Redis command's name. */
  constructor(command: string, file: URL, numberOfKeys: number) {
    this.#command = command;
    this.#file = file;
    this.#numberOfKeys = numberOfKeys;
    scripts.add(this as LuaScript<never, unknown>);
  }

  /** The script's source, read from its file the first time it is needed. */
  get lua(): string {
    this.#lua ??= readFileSync(this.#file, "utf8");
    return this.#lua;
  }

  /** Registers the script on a connection (once per connection). */
  define(redis: ScriptHost): void {
    if (this.#defined.has(redis)) return;
    redis.defineCommand(this.#command, { numberOfKeys: this.#numberOfKeys, lua: this.lua });
    this.#defined.add(redis);
  }

  /**
   * Runs the script with its keys first, then its arguments. A connection not made by `createRedis`
   * gets the script on its first call (see `defineLuaScripts` for why that is later than ideal).
   */
  run(redis: ScriptHost, ...args: Args): Promise<Result> {
    this.define(redis);
    const command = (redis as unknown as Record<string, (...a: Args) => Promise<Result>>)[this.#command];
    if (!command) throw new Error(`Lua command ${this.#command} is not defined`);
    return command.apply(redis, args);
  }
}
