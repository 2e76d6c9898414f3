import type { WebTools } from "./web-tools.ts";
import { createWebTools } from "./web-tools.ts";

/** The worker settings that shape the web tools (parsed by the shared worker environment schema). */
export interface WebToolsEnv {
  SEARXNG_URL?: string | undefined;
  WEB_FETCH_ALLOW_HOSTS: string[];
  WEB_FETCH_TIMEOUT_MS: number;
  WEB_FETCH_MAX_CHARS: number;
  WEB_TOOL_CONCURRENCY: number;
  MAX_TOOL_CALLS_PER_TURN: number;
}

export function createWebToolsFromEnv(env: WebToolsEnv): WebTools {
  return createWebTools({
    searxngUrl: env.SEARXNG_URL,
    allowHosts: env.WEB_FETCH_ALLOW_HOSTS.map((h) => h.toLowerCase()),
    fetchTimeoutMs: env.WEB_FETCH_TIMEOUT_MS,
    maxChars: env.WEB_FETCH_MAX_CHARS,
    concurrency: env.WEB_TOOL_CONCURRENCY,
    maxCallsPerTurn: env.MAX_TOOL_CALLS_PER_TURN,
  });
}
