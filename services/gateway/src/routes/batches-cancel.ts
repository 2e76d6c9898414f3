import { batchNotFound, cancelLineFusions } from "@fusion/intake";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

/**
 * `POST /batches/{id}/cancel`: an `in_progress` batch becomes `cancelling`: lines not yet started never
 * run, the fusions of running lines are cancelled, and once every line has settled the batch job
 * finalizes it as `cancelled` (unanswered lines in the error file as `batch_cancelled`). A batch
 * already ending or ended is answered as it is.
 */
export function batchesCancelRoute(deps: GatewayDeps) {
  return factory.createApp().post("/batches/:id/cancel", async (c) => {
    const id = c.req.param("id");
    const owner = c.get("keyId");
    if (!(await deps.batches.get(owner, id))) throw batchNotFound(id);
    const status = await deps.batches.transition(id, "cancelling", ["validating", "in_progress"]);
    if (status === "cancelling") {
      // A line that starts after the transition sees it and does not run; one that started is in the set.
      const running = await deps.batches.running(id);
      await cancelLineFusions(deps.redis, deps.shards, id, running, deps.env.STREAM_RETENTION_SECONDS);
      deps.logger.info({ batchId: id, running: running.length }, "batch cancelling");
    }
    const batch = await deps.batches.get(owner, id);
    if (!batch) throw batchNotFound(id);
    return c.json(batch);
  });
}
