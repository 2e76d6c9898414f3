import { readWebhookDelivery } from "@fusion/runtime";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { finalOrError } from "../sse/fusion-answer.ts";
import { readFusionState } from "../sse/fusion-state.ts";
import { ownFusionMeta } from "../sse/own-fusion-meta.ts";

/**
 * `GET /fusions/{id}`: the finished completion, or the fusion's state otherwise (queued, running with
 * its last event id, failed with its error, cancelled), with its webhook's delivery (`webhook`) when it
 * has one. Served by any gateway, to the key that started it.
 */
export function fusionStatusRoute(deps: Pick<GatewayDeps, "redis">) {
  return factory.createApp().get("/fusions/:id", async (c) => {
    const id = c.req.param("id");
    const meta = await ownFusionMeta(deps.redis, id, c.get("keyId"));
    const [{ last: stored, cancelled }, webhook] = await Promise.all([
      readFusionState(deps.redis, id),
      readWebhookDelivery(deps.redis, id),
    ]);
    const shown = webhook ? { webhook } : {};
    if (stored?.type === "final") return c.json({ ...(finalOrError(stored)?.body as object), ...shown });
    const base = { id, object: "fusion", created: Math.floor(meta.created / 1000), model: meta.model };
    if (stored?.type === "error") {
      const e = JSON.parse(stored.raw) as { status: number; message: string; cancelled?: boolean };
      // Cancelled on request (`POST /fusions/{id}/cancel`): its stream ended with a cancelled error.
      if (e.cancelled === true)
        return c.json({ ...base, status: "cancelled", last_event_id: stored.id, ...shown });
      return c.json({ ...base, status: "failed", error: { code: e.status, message: e.message }, ...shown });
    }
    const lastEventId = stored?.id ?? null;
    if (cancelled) return c.json({ ...base, status: "cancelled", last_event_id: lastEventId, ...shown });
    return c.json({ ...base, status: stored ? "running" : "queued", last_event_id: lastEventId, ...shown });
  });
}
