/** How numbers read on the page. */

export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatCost(cost: number | undefined | null): string {
  if (cost === undefined || cost === null || !Number.isFinite(cost)) return "–";
  return `$${cost.toFixed(cost !== 0 && Math.abs(cost) < 0.01 ? 6 : 4)}`;
}

export function formatTokens(tokens: number | undefined | null): string {
  return tokens === undefined || tokens === null ? "–" : tokens.toLocaleString("en");
}

/** A source's label: its title, else its host and path. */
export function sourceLabel(url: string, title?: string): string {
  if (title) return title;
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return url;
  }
}
