import type { RedisClient } from "@fusion/runtime";
import type { Queue } from "bullmq";
import { type Handler, Hono } from "hono";
import { adminAuth, adminLogout, QUEUES_PATH } from "./admin-auth.ts";
import { adminSessions } from "./admin-sessions.ts";

export interface AdminOptions {
  key: string;
  /** Every queue shard's queues: the dashboard shows them all. */
  shards: Array<{ index: number; queues: Record<string, Queue> }>;
  /** Where the dashboard's browser sessions live. */
  redis: RedisClient;
  /** Whether the dashboard may only look (no retry, clean, pause, add, obliterate). */
  readOnly: boolean;
}

/**
 * `/admin/*` behind the admin key (or a session cookie; `POST /admin/logout` ends it), with Bull Board
 * at `/admin/queues`: the page (HTML), its static assets (`/admin/queues/static/*`, served from @bull-board/ui on disk) and its JSON API
 * (`/admin/queues/api/*`), over the gateway's own BullMQ queues: with one queue shard named `turn`,
 * `judge` and `panel`; with several, `shard-<i>.<queue>` (grouped by shard in its menu). Bull Board is loaded on the first
 * authorised request, so a gateway whose dashboard nobody opens does not load it.
 */
export function adminRoutes(options: AdminOptions): Hono {
  const admin = new Hono();
  const sessions = adminSessions(options.redis);
  // Before the key check: a browser whose session expired can still clear its cookie.
  admin.post("/logout", adminLogout(sessions));
  admin.use("*", adminAuth(options.key, sessions));
  let board: Promise<Hono> | undefined;
  const dashboard: Handler = async (c) => {
    board ??= loadBoard(options).catch((err: unknown) => {
      board = undefined;
      throw err;
    });
    return (await board).fetch(c.req.raw, c.env);
  };
  admin.all("/queues", dashboard);
  admin.all("/queues/*", dashboard);
  return admin;
}

/** Bull Board's Hono app, mounted at its full path. */
async function loadBoard(options: AdminOptions): Promise<Hono> {
  const [{ createBullBoard }, { BullMQAdapter }, { HonoAdapter }, { serveStatic }] = await Promise.all([
    import("@bull-board/api"),
    import("@bull-board/api/bullMQAdapter"),
    import("@bull-board/hono"),
    import("@hono/node-server/serve-static"),
  ]);
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: options.shards.flatMap(({ index, queues }) =>
      Object.values(queues).map(
        (q) =>
          new BullMQAdapter(q, {
            readOnlyMode: options.readOnly,
            ...(options.shards.length > 1 ? { prefix: `shard-${index}.`, delimiter: "." } : {}),
          }),
      ),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: "Fusion queues" } },
  });
  return new Hono().route(QUEUES_PATH, serverAdapter.registerPlugin());
}
