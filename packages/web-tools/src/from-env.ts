import type { OnSearchError } from "./search/search-backend.ts";
import { type SearchEnv, searchOptionsFromEnv } from "./search/search-from-env.ts";
import type { WebTools } from "./web-tools.ts";
import { createWebTools } from "./web-tools.ts";

/** The worker settings that shape the web tools (parsed by the shared worker environment schema). */
export interface WebToolsEnv extends SearchEnv {
  WEB_FETCH_ALLOW_HOSTS: string[];
  WEB_FETCH_TIMEOUT_MS: number;
  WEB_FETCH_MAX_CHARS: number;
  WEB_TOOL_CONCURRENCY: number;
  MAX_TOOL_CALLS_PER_TURN: number;
}

/**
 * The web tools of a worker. Throws a SearchConfigError naming the variables when the web search
 * settings cannot work (see `searchOptionsFromEnv`), so that a wrong setting stops the start.
 */
export function createWebToolsFromEnv(
  env: WebToolsEnv,
  hooks: { onSearchError?: OnSearchError } = {},
): WebTools {
  return createWebTools({
    ...searchOptionsFromEnv(env),
    allowHosts: env.WEB_FETCH_ALLOW_HOSTS.map((h) => h.toLowerCase()),
    fetchTimeoutMs: env.WEB_FETCH_TIMEOUT_MS,
    maxChars: env.WEB_FETCH_MAX_CHARS,
    concurrency: env.WEB_TOOL_CONCURRENCY,
    maxCallsPerTurn: env.MAX_TOOL_CALLS_PER_TURN,
    ...(hooks.onSearchError ? { onSearchError: hooks.onSearchError } : {}),
  });
}
