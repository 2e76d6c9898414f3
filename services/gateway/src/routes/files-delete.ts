import { deleteFile, fileNotFound } from "@fusion/intake";
import type { KeyLimits } from "@fusion/runtime";
import type { Hono } from "hono";
import { apiKeyAuth } from "../auth/api-key-auth.ts";
import type { OwnerIdOf } from "../auth/owner-id.ts";
import type { GatewayDeps } from "../deps.ts";
import { type AppEnv, factory } from "../factory.ts";
import { keyLimitsMiddleware } from "../limits/key-limits-middleware.ts";

/**
 * `DELETE /files/{id}`: the key's file is deleted (`{id, object: "file", deleted: true}`), as OpenAI
 * allows for any file: it is no longer listed or readable and no new batch takes it. A batch already
 * running over it is not harmed: the bytes stay for it until it ends (see `deleteFile`).
 * Mounted before the JSON-only API with the key and the per-key limits: a DELETE carries no body, and
 * clients (the official SDK) send it with no content-type; a browser cannot send one across sites
 * without a CORS preflight, which the API does not answer.
 */
export function filesDeleteRoute(deps: GatewayDeps, keyLimits: KeyLimits, ownerId: OwnerIdOf): Hono<AppEnv> {
  const route = factory.createApp();
  route.delete(
    "/files/:id",
    apiKeyAuth(deps.env.GATEWAY_API_KEYS, ownerId),
    keyLimitsMiddleware(keyLimits, deps.logger),
    async (c) => {
      const id = c.req.param("id");
      if (!(await deleteFile(deps, c.get("keyId"), id))) throw fileNotFound(id);
      deps.logger.info({ fileId: id }, "file deleted");
      return c.json({ id, object: "file", deleted: true });
    },
  );
  return route;
}
