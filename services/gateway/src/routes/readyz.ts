import { errorBody } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

type QueueKind = "panel" | "judge" | "turn";
type WorkerCounts = Record<QueueKind, number>;
const KINDS: QueueKind[] = ["panel", "judge", "turn"];

/**
 * `GET /readyz`: Redis answers and every kind of worker is connected to every queue shard; the answer
 * is kept for a second. `workers` holds, per queue, the fewest worker connections of any shard (with
 * one shard: its counts); with several shards, `shards` lists each one's counts.
 */
export function readyzRoute(deps: Pick<GatewayDeps, "redis" | "shards">) {
  let cached: { at: number; body: Record<string, unknown>; ok: boolean } | undefined;

  return factory.createApp().get("/readyz", async (c) => {
    if (cached && Date.now() - cached.at < 1000) return c.json(cached.body, cached.ok ? 200 : 503);
    let body: Record<string, unknown>;
    let ok = false;
    try {
      await deps.redis.ping();
      const perShard = await Promise.all(
        deps.shards.map(async ({ index, queues }) => {
          const [panel, judge, turn] = await Promise.all(KINDS.map((k) => queues[k].getWorkersCount()));
          return { shard: index, panel: panel ?? 0, judge: judge ?? 0, turn: turn ?? 0 };
        }),
      );
      const workers = Object.fromEntries(
        KINDS.map((k) => [k, Math.min(...perShard.map((s) => s[k]))]),
      ) as WorkerCounts;
      const missing = perShard.flatMap((s) =>
        KINDS.filter((k) => s[k] === 0).map((k) => ({ shard: s.shard, k })),
      );
      ok = missing.length === 0;
      const shards = perShard.length > 1 ? { shards: perShard } : {};
      const unserved = [...new Set(missing.map((m) => m.shard))];
      const waiting =
        perShard.length > 1
          ? `not ready: waiting for panel and judge workers of queue shard ${unserved.join(", ")}`
          : "not ready: waiting for panel and judge workers";
      body = ok
        ? { status: "ready", redis: "ok", workers, ...shards }
        : { ...errorBody(503, waiting), workers, ...shards };
    } catch (err) {
      body = { ...errorBody(503, `not ready: Redis does not answer (${(err as Error).message})`) };
    }
    cached = { at: Date.now(), body, ok };
    return c.json(body, ok ? 200 : 503);
  });
}
