import { ownerFusionIds, ownerIndexStart } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { type FusionSummary, fusionSummary } from "../fusions/fusion-summary.ts";

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/** `limit`: a whole number from 1 to 100, 20 when absent; 400 otherwise. */
function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const limit = /^\d{1,3}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    throw new FusionError("bad_request", `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

/**
 * `GET /fusions?limit=N&after=<fusion id>`: the caller's key's fusions, newest first, as long as they
 * are retained (`FusionSummary`), from its owner index (runtime `owner-index.ts`: capped, trimmed as
 * fusions expire). One page costs the index read plus three small reads per fusion, sent together;
 * entries whose fusion is gone are skipped. `after` must be a fusion of this listing (400 otherwise).
 */
export function fusionsListRoute(deps: Pick<GatewayDeps, "redis">) {
  return factory.createApp().get("/fusions", async (c) => {
    const owner = c.get("keyId");
    const limit = parseLimit(c.req.query("limit"));
    const after = c.req.query("after") || undefined;
    let start = await ownerIndexStart(deps.redis, owner, after);
    if (start === undefined) {
      throw new FusionError("bad_request", `after: no fusion ${after} in this listing (it may have expired)`);
    }
    // One more than a page, to know whether there is more.
    const found: FusionSummary[] = [];
    while (found.length <= limit) {
      const ids = await ownerFusionIds(deps.redis, owner, start, limit + 1 - found.length);
      if (ids.length === 0) break;
      start += ids.length;
      const summaries = await Promise.all(ids.map((id) => fusionSummary(deps.redis, id, owner)));
      for (const s of summaries) if (s) found.push(s);
    }
    const data = found.slice(0, limit);
    return c.json({
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: found.length > limit,
    });
  });
}
