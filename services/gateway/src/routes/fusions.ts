import { keys, parseEntry, parseEventId } from "@fusion/runtime";
import type { StoredEvent } from "@fusion/wire";
import { FusionError } from "@fusion/wire";
import { Hono } from "hono";
import type { AppEnv, GatewayDeps } from "../app.ts";
import { readMeta, wantsProgressEvents } from "../fusion-meta.ts";
import { fusionSseStream, SSE_HEADERS } from "../sse.ts";
import { PROGRESS_HEADER } from "./chat-completions.ts";

/** The HTTP answer a terminal event stands for: the completion, or the error in our shape. */
export function finalOrError(stored: StoredEvent): { status: number; body: unknown } | undefined {
  if (stored.type === "final")
    return { status: 200, body: (JSON.parse(stored.raw) as { completion: unknown }).completion };
  if (stored.type === "error") {
    const e = JSON.parse(stored.raw) as { status: number; message: string };
    return { status: e.status, body: { error: { code: e.status, message: e.message } } };
  }
  return undefined;
}

/**
 * `GET /fusions/{id}`: the finished completion, or the fusion's state while it runs.
 * `GET /fusions/{id}/stream`: its SSE stream, from the start or after `Last-Event-ID` (header, or
 * `last_event_id` query for plain EventSource), served by any gateway. Only the key that started a
 * fusion may read it; to any other it does not exist.
 */
export function fusionsRoute(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const ownMeta = async (id: string, keyId: string) => {
    const meta = /^[\w-]{1,100}$/.test(id) ? await readMeta(deps.redis, id) : undefined;
    if (!meta || meta.owner !== keyId)
      throw new FusionError("not_found", `no fusion ${id} (it may have expired)`);
    return meta;
  };

  app.get("/fusions/:id", async (c) => {
    const id = c.req.param("id");
    const meta = await ownMeta(id, c.get("keyId"));
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

  app.get("/fusions/:id/stream", async (c) => {
    const id = c.req.param("id");
    const meta = await ownMeta(id, c.get("keyId"));
    const lastEventId = c.req.header("last-event-id") ?? c.req.query("last_event_id");
    const afterId = parseEventId(lastEventId);
    if (lastEventId && !afterId)
      throw new FusionError(
        "bad_request",
        `Last-Event-ID "${lastEventId}" is not an event id of this stream`,
      );
    const progressEvents =
      c.req.query("progress") !== undefined
        ? wantsProgressEvents({}, c.req.query("progress"))
        : wantsProgressEvents({}, c.req.header(PROGRESS_HEADER)) || meta.progress;
    const body = fusionSseStream({
      relay: deps.relay,
      fusionId: id,
      model: meta.model,
      progressEvents,
      ...(afterId ? { afterId } : {}),
      keepAliveMs: deps.env.KEEPALIVE_MS,
      deadlineMs: deps.env.FUSION_TIMEOUT_MS,
      onClientGone: () => deps.readers.clientGone(id, c.get("requestId")),
      onStart: () => deps.readers.attach(id),
      onEnd: () => deps.readers.detach(id),
    });
    return new Response(body, { status: 200, headers: { ...SSE_HEADERS, "x-fusion-id": id } });
  });

  return app;
}
