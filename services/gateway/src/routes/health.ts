import { errorBody } from "@fusion/wire";
import { Hono } from "hono";
import type { AppEnv, GatewayDeps } from "../app.ts";

/** `/healthz`: the process is alive. `/readyz`: Redis answers and both kinds of worker are connected. */
export function healthRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let cached: { at: number; body: Record<string, unknown>; ok: boolean } | undefined;

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", async (c) => {
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

  return app;
}
