import { batchNotFound, listPage, pageIds, pageLimit } from "@fusion/intake";
import { FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

/**
 * `GET /batches/{id}` and `GET /batches` (the key's batches, newest first, paginated as OpenAI's
 * lists are: `limit` 1 to 100, `after` the last id of the page before; `has_more`, `first_id`, `last_id`).
 */
export function batchesReadRoute(deps: GatewayDeps) {
  return factory
    .createApp()
    .get("/batches/:id", async (c) => {
      const id = c.req.param("id");
      const batch = await deps.batches.get(c.get("keyId"), id);
      if (!batch) throw batchNotFound(id);
      return c.json(batch);
    })
    .get("/batches", async (c) => {
      const limit = pageLimit(c.req.query("limit"));
      if (limit === undefined)
        throw new FusionError("bad_request", "invalid request: limit: must be a whole number from 1 to 100");
      const owner = c.get("keyId");
      const page = pageIds(await deps.batches.ids(owner), c.req.query("after"), limit);
      const found = await Promise.all(page.ids.map((id) => deps.batches.get(owner, id)));
      return c.json(
        listPage(
          found.filter((b) => b !== undefined),
          page.hasMore,
        ),
      );
    });
}
