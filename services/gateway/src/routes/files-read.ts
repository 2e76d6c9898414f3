import { fileNotFound, listPage, pageIds, pageLimit } from "@fusion/intake";
import { FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

/** OpenAI's bounds of `GET /files`: `limit` 1 to 10,000, all of them by default. */
const FILES_PAGE = { max: 10_000, fallback: 10_000 };

/**
 * `GET /files` (the key's files: uploads and its batches' output and error files, newest first or
 * `order=asc`, only those of `purpose` if given, paginated as OpenAI's lists are: `limit`, `after`;
 * `has_more`, `first_id`, `last_id`), `GET /files/{id}` (the file object) and `GET /files/{id}/content`
 * (its bytes), for the key that owns them.
 */
export function filesReadRoute(deps: GatewayDeps) {
  return factory
    .createApp()
    .get("/files", async (c) => {
      const limit = pageLimit(c.req.query("limit"), FILES_PAGE);
      if (limit === undefined)
        throw new FusionError(
          "bad_request",
          "invalid request: limit: must be a whole number from 1 to 10000",
        );
      const order = c.req.query("order") ?? "desc";
      if (order !== "asc" && order !== "desc")
        throw new FusionError("bad_request", 'invalid request: order: must be "asc" or "desc"');
      const owner = c.get("keyId");
      const ids = await deps.files.ids(owner, c.req.query("purpose") || undefined);
      if (order === "asc") ids.reverse();
      const page = pageIds(ids, c.req.query("after"), limit);
      const found = await Promise.all(page.ids.map((id) => deps.files.get(owner, id)));
      return c.json(
        listPage(
          found.filter((f) => f !== undefined),
          page.hasMore,
        ),
      );
    })
    .get("/files/:id", async (c) => {
      const id = c.req.param("id");
      const file = await deps.files.get(c.get("keyId"), id);
      if (!file) throw fileNotFound(id);
      return c.json(file);
    })
    .get("/files/:id/content", async (c) => {
      const content = await deps.files.content(c.get("keyId"), c.req.param("id"));
      return new Response(new Uint8Array(content), {
        headers: { "content-type": "application/jsonl", "content-length": String(content.byteLength) },
      });
    });
}
