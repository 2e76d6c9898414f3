import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/**
 * The route a request was answered by, as registered (`/api/v1/chat/completions`, never a raw
 * path), so that label values stay few. Requests no handler matched are "unmatched".
 */
export function routeLabel(c: Context): string {
  const handlers = matchedRoutes(c).filter((r) => r.method !== "ALL");
  return handlers.at(-1)?.path ?? "unmatched";
}
