/** A page of a cursor-paginated list, as OpenAI's list endpoints answer (`after`, `limit`). */
export interface ListPage<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * The ids of one page: those after the id `after` (all when it is absent or unknown), at most `limit`,
 * in the given order (newest first), and whether more follow.
 */
export function pageIds(
  ids: readonly string[],
  after: string | undefined,
  limit: number,
): { ids: string[]; hasMore: boolean } {
  const from = after === undefined ? 0 : ids.indexOf(after) + 1;
  const rest = from > 0 || after === undefined ? ids.slice(from) : [];
  return { ids: rest.slice(0, limit), hasMore: rest.length > limit };
}

/** The page of the items found for `ids` (an id whose item expired meanwhile is left out). */
export function listPage<T extends { id: string }>(items: T[], hasMore: boolean): ListPage<T> {
  return {
    object: "list",
    data: items,
    first_id: items[0]?.id ?? null,
    last_id: items.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}

/**
 * `limit` of a list request: a whole number from 1 to `max` (100, batches' bound), `fallback` (20) when
 * absent; undefined when it is not such a number.
 */
export function pageLimit(
  value: string | undefined,
  { max = 100, fallback = 20 }: { max?: number; fallback?: number } = {},
): number | undefined {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
}
