import { errorBody } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

/** `GET /readyz`: Redis answers and every kind of worker is connected; the answer is kept for a second. */
export function readyzRoute(deps: Pick<GatewayDeps, "redis" | "queues">) {
  let cached: { at: number; body: Record<string, unknown>; ok: boolean } | undefined;

  return factory.createApp().get("/readyz", async (c) => {
    if (cached && Date.now() - cached.at < 1000) return c.json(cached.body, cached.ok ? 200 : 503);
    let body: Record<string, unknown>;
    let ok = false;
    try {
      await deps.redis.ping();
      const [panel, judge, turn] = await Promise.all([
        deps.queues.panel.getWorkersCount(),
        deps.queues.judge.getWorkersCount(),
        deps.queues.turn.getWorkersCount(),
      ]);
      ok = panel > 0 && judge > 0 && turn > 0;
      body = ok
        ? { status: "ready", redis: "ok", workers: { panel, judge, turn } }
        : {
            ...errorBody(503, "not ready: waiting for panel and judge workers"),
            workers: { panel, judge, turn },
          };
    } catch (err) {
      body = { ...errorBody(503, `not ready: Redis does not answer (${(err as Error).message})`) };
    }
    cached = { at: Date.now(), body, ok };
    return c.json(body, ok ? 200 : 503);
  });
}
