import { cancelAndEndFusion } from "@fusion/runtime";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { fusionSummary, summaryOf } from "../fusions/fusion-summary.ts";
import { ownFusionMeta } from "../sse/own-fusion-meta.ts";

/**
 * `POST /fusions/{id}/cancel`: cancels a fusion of the caller's key as its client's leaving does (every
 * worker aborts its upstream calls, no job starts), and ends its stream at once for whoever reads it:
 * an error chunk (`error.code: "cancelled"`, status 499, `finish_reason: "error"`), then `[DONE]`; a
 * waiting non-streaming request gets 499. Answers the fusion (`status: "cancelled"`). A fusion that
 * already ended is left as it is and answered with its status. Any other key's fusion is 404.
 */
export function fusionCancelRoute(deps: Pick<GatewayDeps, "env" | "logger" | "redis" | "slots">) {
  return factory.createApp().post("/fusions/:id/cancel", async (c) => {
    const id = c.req.param("id");
    const owner = c.get("keyId");
    const meta = await ownFusionMeta(deps.redis, id, owner);
    const cancelled = await cancelAndEndFusion(deps.redis, id, {
      created: Math.floor(meta.created / 1000),
      model: meta.model,
      streamTtlSeconds: deps.env.STREAM_RETENTION_SECONDS,
    });
    if (cancelled) {
      deps.logger.info({ fusionId: id, requestId: c.get("requestId") }, "fusion cancelled by its key");
      // Its concurrency slot is free now, whichever gateway holds it (that one's check sees it too).
      void deps.slots.settle(id, owner);
    }
    // One that ended long ago (its events expired, its meta lives) reads as it ended.
    return c.json(
      (await fusionSummary(deps.redis, id, owner)) ?? summaryOf(id, meta, meta.outcome ?? "cancelled"),
    );
  });
}
