import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { finalOrError } from "../sse/fusion-answer.ts";
import { readFusionState } from "../sse/fusion-state.ts";
import { ownFusionMeta } from "../sse/own-fusion-meta.ts";

/**
 * `GET /fusions/{id}`: the finished completion, or the fusion's state otherwise (queued, running with
 * its last event id, failed with its error, cancelled). Served by any gateway, to the key that started it.
 */
export function fusionStatusRoute(deps: Pick<GatewayDeps, "redis">) {
  return factory.createApp().get("/fusions/:id", async (c) => {
    const id = c.req.param("id");
    const meta = await ownFusionMeta(deps.redis, id, c.get("keyId"));
    const { last: stored, cancelled } = await readFusionState(deps.redis, id);
    if (stored?.type === "final") return c.json(finalOrError(stored)?.body);
    const base = { id, object: "fusion", created: Math.floor(meta.created / 1000), model: meta.model };
    if (stored?.type === "error") {
      const e = JSON.parse(stored.raw) as { status: number; message: string; cancelled?: boolean };
      // Cancelled on request (`POST /fusions/{id}/cancel`): its stream ended with a cancelled error.
      if (e.cancelled === true) return c.json({ ...base, status: "cancelled", last_event_id: stored.id });
      return c.json({ ...base, status: "failed", error: { code: e.status, message: e.message } });
    }
    const lastEventId = stored?.id ?? null;
    if (cancelled) return c.json({ ...base, status: "cancelled", last_event_id: lastEventId });
    return c.json({ ...base, status: stored ? "running" : "queued", last_event_id: lastEventId });
  });
}
