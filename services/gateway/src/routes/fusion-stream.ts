import { parseEventId } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { openStreamSlot } from "../limits/open-stream-slot.ts";
import { eventsExpired } from "../sse/expired-events.ts";
import { PROGRESS_HEADER, progressMode } from "@fusion/intake";
import { fusionSseResponse } from "../sse/fusion-response.ts";
import { ownFusionMeta } from "../sse/own-fusion-meta.ts";

/**
 * `GET /fusions/{id}/stream`: the fusion's SSE stream, from the start or after `Last-Event-ID` (header,
 * or `last_event_id` query for plain EventSource), served by any gateway to the key that started it.
 * Progress comes as named events when the `progress` query (`true`, `1`, `full`, ...), the progress
 * header or the original request asked for them; a fusion started with `"progress": "full"` carries
 * its text events whatever a resume asks (as comments when it asks for none). A resume at or past the end of a finished fusion gets its end at once; a
 * fusion whose events expired while its record lives is 410. Each stream counts against the key's
 * MAX_OPEN_STREAMS_PER_KEY (429 beyond).
 */
export function fusionStreamRoute(
  deps: Pick<
    GatewayDeps,
    "env" | "logger" | "redis" | "relay" | "readers" | "slots" | "shardOf" | "openStreams"
  >,
) {
  return factory.createApp().get("/fusions/:id/stream", async (c) => {
    const id = c.req.param("id");
    const meta = await ownFusionMeta(deps.redis, id, c.get("keyId"));
    const lastEventId = c.req.header("last-event-id") ?? c.req.query("last_event_id");
    const afterId = parseEventId(lastEventId);
    if (lastEventId && !afterId)
      throw new FusionError(
        "bad_request",
        `Last-Event-ID "${lastEventId}" is not an event id of this stream`,
      );
    const query = c.req.query("progress");
    const progressEvents =
      query !== undefined
        ? progressMode(undefined, query) !== "comments"
        : progressMode(undefined, c.req.header(PROGRESS_HEADER)) !== "comments" ||
          meta.progress !== "comments";
    if (await eventsExpired(deps, id, meta.created))
      throw new FusionError("gone", `the events of fusion ${id} have expired: it can no longer be read`);
    const streamSlot = await openStreamSlot(deps, c.get("keyId"));
    return fusionSseResponse(deps, {
      fusionId: id,
      requestId: c.get("requestId"),
      owner: meta.owner,
      resumeGraceMs: meta.resumeGraceMs,
      detached: meta.async,
      model: meta.model,
      progressEvents,
      ...(afterId ? { afterId } : {}),
      streamSlot,
      headers: { "x-fusion-id": id },
    });
  });
}
