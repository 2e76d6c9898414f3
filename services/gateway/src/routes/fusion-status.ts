import { keys, parseEntry } from "@fusion/runtime";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { finalOrError } from "../sse/fusion-answer.ts";
import { ownFusionMeta } from "../sse/own-fusion-meta.ts";

/**
 * `GET /fusions/{id}`: the finished completion, or the fusion's state while it runs (queued, running
 * with its last event id, failed with its error). Served by any gateway, to the key that started it.
 */
export function fusionStatusRoute(deps: Pick<GatewayDeps, "redis">) {
  return factory.createApp().get("/fusions/:id", async (c) => {
    const id = c.req.param("id");
    const meta = await ownFusionMeta(deps.redis, id, c.get("keyId"));
    const last = (await deps.redis.xrevrange(keys.events(id), "+", "-", "COUNT", 1)) as Array<
      [string, string[]]
    >;
    const stored = last[0] ? parseEntry(last[0][0], last[0][1]) : undefined;
    if (stored?.type === "final") return c.json(finalOrError(stored)?.body);
    const base = { id, object: "fusion", created: Math.floor(meta.created / 1000), model: meta.model };
    if (stored?.type === "error") {
      const e = JSON.parse(stored.raw) as { status: number; message: string };
      return c.json({ ...base, status: "failed", error: { code: e.status, message: e.message } });
    }
    return c.json({ ...base, status: stored ? "running" : "queued", last_event_id: stored?.id ?? null });
  });
}
