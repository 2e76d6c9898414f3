import { createHash } from "node:crypto";
import { LuaScript } from "../redis/lua-script.ts";
import { keys } from "../redis/keys.ts";
import type { RedisClient } from "../redis/redis.ts";

/** See idempotency-claim.lua: `[]` when claimed, else `[id, fingerprint, state]`. */
const claimScript = new LuaScript<
  [key: string, fusionId: string, fingerprint: string, pendingMs: number],
  Array<string | null>
>("fusionIdempotencyClaim", new URL("./idempotency-claim.lua", import.meta.url), 1);

/** See idempotency-commit.lua: 1 when committed. */
const commitScript = new LuaScript<[key: string, fusionId: string, retentionMs: number], number>(
  "fusionIdempotencyCommit",
  new URL("./idempotency-commit.lua", import.meta.url),
  1,
);

/** See idempotency-release.lua: 1 when freed. */
const releaseScript = new LuaScript<[key: string, fusionId: string], number>(
  "fusionIdempotencyRelease",
  new URL("./idempotency-release.lua", import.meta.url),
  1,
);

/** Which Idempotency-Key of which API key. */
export interface IdempotencyScope {
  /** The owner id of the API key that sent it: keys never meet across API keys. */
  owner: string;
  /** The header's value, as the client sent it. */
  key: string;
}

/** What a key's record holds: the fusion it started and the fingerprint of the request that did. */
export interface IdempotencyRecord {
  fusionId: string;
  fingerprint: string;
  /** `pending` while its fusion is being enqueued; `committed` once it is. */
  state: "pending" | "committed";
}

export type IdempotencyClaim = { claimed: true } | { claimed: false; record: IdempotencyRecord };

export interface IdempotencyRecordsOptions {
  /** How long a committed key is remembered (ms). */
  retentionMs: number;
  /** How long a claim lives before it is committed (ms): a gateway that dies meanwhile frees the key. */
  pendingMs: number;
}

/**
 * The Idempotency-Keys of each API key, in Redis so that every gateway sees them. A request with a key
 * first claims it for the fusion id it is about to enqueue (written before the enqueue, so a duplicate
 * arriving meanwhile finds that id and no second fusion starts); it then commits the claim, kept for
 * the retention, or releases it when the fusion was refused or could not be enqueued. Claim, commit and
 * release are one script each; commit and release touch the record only while it is still the claimer's.
 */
export class IdempotencyRecords {
  readonly #redis: RedisClient;
  readonly #o: IdempotencyRecordsOptions;

  constructor(redis: RedisClient, options: IdempotencyRecordsOptions) {
    this.#redis = redis;
    this.#o = options;
  }

  /** Claims the key for `fusionId`, or answers the record that already holds it. */
  async claim(scope: IdempotencyScope, fusionId: string, fingerprint: string): Promise<IdempotencyClaim> {
    const held = await claimScript.run(
      this.#redis,
      recordKey(scope),
      fusionId,
      fingerprint,
      this.#o.pendingMs,
    );
    const [id, heldFingerprint, state] = held;
    if (!id) return { claimed: true };
    return {
      claimed: false,
      record: {
        fusionId: id,
        fingerprint: heldFingerprint ?? "",
        state: state === "committed" ? "committed" : "pending",
      },
    };
  }

  /** Keeps the claim of `fusionId` for the retention; false when the key is no longer its own. */
  async commit(scope: IdempotencyScope, fusionId: string): Promise<boolean> {
    return (await commitScript.run(this.#redis, recordKey(scope), fusionId, this.#o.retentionMs)) === 1;
  }

  /** Frees the key if `fusionId` still holds it. */
  async release(scope: IdempotencyScope, fusionId: string): Promise<void> {
    await releaseScript.run(this.#redis, recordKey(scope), fusionId);
  }
}

function recordKey(scope: IdempotencyScope): string {
  return keys.idempotency(scope.owner, createHash("sha256").update(scope.key).digest("hex"));
}
