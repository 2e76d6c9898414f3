import type { Context } from "hono";
import type { SimulatorState } from "./state.ts";

/** Results of every query, whichever API serves them. */
export const SEARCH_RESULT_COUNT = 8;

/** Lowercase words joined by dashes, at most `max` characters ("query" when nothing is left). */
function slugify(text: string, max = 40): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, max)
    .replace(/-+$/, "");
  return slug === "" ? "query" : slug;
}

export interface SearchResult {
  url: string;
  title: string;
  content: string;
  engine: "sim";
  score: number;
}

/** The deterministic results for a query; their URLs point at this simulator's pages. */
export function searchResults(query: string, baseUrl: string): SearchResult[] {
  const slug = slugify(query);
  return Array.from({ length: SEARCH_RESULT_COUNT }, (_, i) => ({
    url: `${baseUrl}/pages/result-${i + 1}-${slug}`,
    title: `Result ${i + 1} for ${query}`,
    content: `Snippet ${i + 1} about ${query}: how a panel of models deliberates and a judge compares them.`,
    engine: "sim" as const,
    score: Number((1 - i * 0.1).toFixed(2)),
  }));
}

/** `GET /search?q=...&format=json`, the SearXNG JSON API. */
export function handleSearch(c: Context, state: SimulatorState): Response {
  if (state.search.fail) return c.json({ error: "search backend failure (simulated)" }, 500);
  const query = c.req.query("q");
  if (query === undefined || query.trim() === "") return c.json({ error: "missing q" }, 400);
  const format = c.req.query("format") ?? "json";
  if (format !== "json") return c.json({ error: `unsupported format: ${format}` }, 400);
  const results = searchResults(query, new URL(c.req.url).origin);
  return c.json({ query, number_of_results: results.length, results });
}
