import { parseEventId } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { Context } from "hono";
import type { GatewayDeps } from "../deps.ts";
import type { AppEnv } from "../factory.ts";
import { asyncAccepted } from "../flow/respond-async.ts";
import { fusionSummary } from "../fusions/fusion-summary.ts";
import { openStreamSlot } from "../limits/open-stream-slot.ts";
import { eventsExpired } from "../sse/expired-events.ts";
import { type FusionMeta, PROGRESS_HEADER, progressMode } from "@fusion/intake";
import { fusionJsonResponse, fusionSseResponse } from "../sse/fusion-response.ts";

/** The response header that marks an answer as the replay of an earlier request's fusion (as Stripe sends it). */
const REPLAYED = { "idempotent-replayed": "true" };

type ReplayDeps = Pick<
  GatewayDeps,
  "env" | "logger" | "redis" | "relay" | "readers" | "slots" | "shardOf" | "openStreams"
>;

/**
 * Answers a retried request with the fusion its Idempotency-Key started, as the first request was
 * answered: async, the 202 with the same id (and its state now); streaming, its stream from the start,
 * or after `Last-Event-ID` when the retry sends one; otherwise its completion once it has one. The
 * retry is a reader like the first: leaving gives the fusion the resume grace it was started with.
 */
export async function replayFusion(
  c: Context<AppEnv>,
  deps: ReplayDeps,
  fusionId: string,
  meta: FusionMeta,
): Promise<Response> {
  if (meta.async) {
    const status = (await fusionSummary(deps.redis, fusionId, meta.owner))?.status ?? "queued";
    return asyncAccepted(
      c.req.path,
      { fusionId, created: meta.created, model: meta.model, status },
      REPLAYED,
    );
  }
  const lastEventId = c.req.header("last-event-id");
  const afterId = parseEventId(lastEventId);
  if (lastEventId && meta.stream && !afterId)
    throw new FusionError("bad_request", `Last-Event-ID "${lastEventId}" is not an event id of this stream`);
  if (await eventsExpired(deps, fusionId, meta.created))
    throw new FusionError("gone", `the events of fusion ${fusionId} have expired: it can no longer be read`);

  const requestId = c.get("requestId");
  const served = { fusionId, requestId, owner: meta.owner, resumeGraceMs: meta.resumeGraceMs };
  if (!meta.stream) {
    for (const [name, value] of Object.entries(REPLAYED)) c.header(name, value);
    return fusionJsonResponse(c, deps, { ...served, accepted: Promise.resolve() });
  }
  const streamSlot = await openStreamSlot(deps, meta.owner);
  return fusionSseResponse(deps, {
    ...served,
    model: meta.model,
    progressEvents:
      progressMode(undefined, c.req.header(PROGRESS_HEADER)) !== "comments" || meta.progress !== "comments",
    ...(afterId ? { afterId } : {}),
    streamSlot,
    headers: { "x-fusion-id": fusionId, "x-request-id": requestId, ...REPLAYED },
  });
}
