import type { E2E } from "../../support/fixture.ts";

/** A prompt the panel answers in plain words (the screenshots of the README show it). */
export const PROMPT = "Compare ridge, lasso and elastic-net regression.";

/** What each panelist of the default panel answers; no two begin alike. */
const ANSWERS = [
  "Ridge adds an L2 penalty that shrinks every coefficient towards zero without removing any, which helps most when many predictors are correlated and each carries a little signal.",
  "Lasso uses an L1 penalty that can set coefficients exactly to zero, so it selects variables; with strongly correlated predictors it tends to keep one of a group and drop the rest.",
  "Elastic-net mixes both penalties: it selects variables like lasso yet keeps groups of correlated predictors together like ridge, at the price of a second parameter to tune.",
];

/**
 * The panelists' replies to `PROMPT`, each citing a page its web search finds (the simulator's
 * SearXNG answer for the query), so that the judge names sources and the answer cites one.
 */
export async function citingReplies(e2e: E2E): Promise<string[]> {
  const res = await fetch(`${e2e.sim.url}/search?format=json&q=${encodeURIComponent(PROMPT)}`);
  const { results } = (await res.json()) as { results: Array<{ url: string }> };
  return ANSWERS.map((text, i) => `${text} See ${results[i]?.url}`);
}
