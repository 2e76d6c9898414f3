import {
  type IdempotencyRecords,
  type IdempotencyScope,
  newFusionId,
  type RedisClient,
} from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import { type FusionMeta, readMeta } from "@fusion/intake";

/** The key is this request's: it starts the fusion `fusionId`, then commits or releases the key. */
interface NewFusion {
  kind: "new";
  fusionId: string;
}

/** The key started a fusion already: the request is answered with it. */
interface Replay {
  kind: "replay";
  fusionId: string;
  meta: FusionMeta;
}

export type IdempotentStart = NewFusion | Replay;

export interface ClaimOptions {
  /** Longest a duplicate waits for the fusion of a key still being accepted before it is 409. Default 10 000. */
  waitMs?: number;
  /** How often it looks meanwhile. Default 50. */
  pollMs?: number;
}

/**
 * Claims an Idempotency-Key for a new fusion, or finds the fusion it started. The claim is written
 * before the enqueue with the id the fusion will have, so a duplicate sent meanwhile, to any gateway,
 * waits for that fusion's meta rather than starting another; should the first request be refused
 * (its key released), the duplicate claims the key itself. The same key with another fingerprint is
 * 422; a key whose fusion is no longer retained is 410; one still being accepted after `waitMs` is
 * 409. Redis unavailable is 503: a request with a key never runs unchecked.
 */
export async function claimIdempotencyKey(
  deps: { redis: RedisClient; idempotency: IdempotencyRecords },
  scope: IdempotencyScope,
  fingerprint: string,
  options: ClaimOptions = {},
): Promise<IdempotentStart> {
  const { waitMs = 10_000, pollMs = 50 } = options;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const fusionId = newFusionId();
    const { claim, meta } = await unlessRedisFails(async () => {
      const claim = await deps.idempotency.claim(scope, fusionId, fingerprint);
      const meta = claim.claimed ? undefined : await readMeta(deps.redis, claim.record.fusionId);
      return { claim, meta };
    });
    if (claim.claimed) return { kind: "new", fusionId };
    const { record } = claim;
    if (record.fingerprint !== fingerprint) {
      throw new FusionError(
        "unprocessable",
        `Idempotency-Key ${JSON.stringify(scope.key)} was used with a different request body`,
      );
    }
    if (meta) return { kind: "replay", fusionId: record.fusionId, meta };
    if (record.state === "committed") {
      throw new FusionError(
        "gone",
        `the fusion Idempotency-Key ${JSON.stringify(scope.key)} started is no longer retained; use a new key`,
      );
    }
    if (Date.now() >= deadline) {
      throw new FusionError(
        "conflict",
        `a request with Idempotency-Key ${JSON.stringify(scope.key)} is still being accepted; retry`,
        { headers: { "retry-after": "1" } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function unlessRedisFails<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new FusionError(
      "unavailable",
      "the service cannot take work right now (idempotency records unavailable)",
      { cause: err },
    );
  }
}
