import { type ResolvedWebToolsConfig, resolveConfig, type WebToolsConfig } from "./config.ts";
import {
  type FunctionToolDefinition,
  isWebToolName,
  toolDefinition,
  WEB_TOOL_NAMES,
  type WebToolName,
} from "./definitions.ts";
import { createLocalSemaphore } from "./local-semaphore.ts";
import { HTTP_SEARCH_PROVIDERS, type SearchProvider } from "./search/search-backend.ts";
import { setUpSearch } from "./search/search-setup.ts";
import { errorMessage } from "./tool-error.ts";
import { type WebFetchArgs, webFetch } from "./web-fetch.ts";
import { type WebSearchArgs, webSearch } from "./web-search.ts";

export interface ToolExecution {
  /** The tool name as called. */
  name: string;
  /** False for any error; the model still gets `content`. */
  ok: boolean;
  /** What the model sees: a JSON string. */
  content: string;
  /** Sources used: the search results returned, or the fetched final URL. */
  urls: Array<{ url: string; title?: string }>;
  error?: string;
}

export interface WebTools {
  /** Where web_search runs; undefined: nowhere (the tool is not offered). */
  readonly searchProvider: SearchProvider | undefined;
  /**
   * OpenAI function-tool definitions for the given names, in order, without duplicates. web_search is
   * left out unless a search API runs it here (not for openrouter, which `serverTools` covers).
   */
  definitions(names: ReadonlyArray<WebToolName>): FunctionToolDefinition[];
  /**
   * The tools the upstream runs itself within a call: OpenRouter's web search server tool when the
   * provider is openrouter and `names` has web_search; else none.
   */
  serverTools(names: ReadonlyArray<WebToolName>): Array<Record<string, unknown>>;
  /** Whether a tool can run here as a function (web_search needs a search API: searxng, brave, tavily, exa). */
  isAvailable(name: WebToolName): boolean;
  /**
   * Runs one tool call. Never throws for bad input or failures (those give `ok: false` with an
   * `{"error": ...}` content); rejects only with the signal's reason when `signal` aborts.
   */
  execute(name: string, argumentsJson: string, signal?: AbortSignal): Promise<ToolExecution>;
  /** Tool calls of one model turn that run; the tool loop answers the others with a tool error. */
  readonly maxCallsPerTurn: number;
}

class InvalidArguments extends Error {}

function failure(name: string, error: string): ToolExecution {
  return { name, ok: false, content: JSON.stringify({ error }), urls: [], error };
}

function parseArguments(argumentsJson: string): Record<string, unknown> {
  const source = argumentsJson.trim() === "" ? "{}" : argumentsJson;
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new InvalidArguments(errorMessage(error));
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArguments("expected a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** An integer argument; numeric strings are accepted, fractions are floored. */
function integerArgument(args: Record<string, unknown>, key: string): number | undefined {
  const raw = args[key];
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new InvalidArguments(`${key} must be an integer`);
  }
  return Math.floor(value);
}

function requiredString(args: Record<string, unknown>, key: string): string {
  const value = args[key];
  if (typeof value !== "string" || value.trim() === "") {
    throw new InvalidArguments(`${key} is required (a non-empty string)`);
  }
  return value.trim();
}

function searchArguments(args: Record<string, unknown>, config: ResolvedWebToolsConfig): WebSearchArgs {
  const query = requiredString(args, "query");
  const max = integerArgument(args, "max_results") ?? config.defaultSearchResults;
  return { query, maxResults: Math.min(25, Math.max(1, max)) };
}

function fetchArguments(args: Record<string, unknown>): WebFetchArgs {
  let url = requiredString(args, "url");
  // A bare "example.com/page" is what models sometimes send: treat it as https.
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) url = `https://${url.replace(/^\/\//, "")}`;
  const tokens = integerArgument(args, "max_content_tokens");
  if (tokens !== undefined && tokens < 1) throw new InvalidArguments("max_content_tokens must be at least 1");
  return tokens === undefined ? { url } : { url, maxContentTokens: tokens };
}

export function createWebTools(options: WebToolsConfig): WebTools {
  const config = resolveConfig(options);
  // Throws at construction for a search setup that cannot work (a keyed provider without its key, ...).
  const search = setUpSearch(options);
  const searchRuns =
    search.provider !== undefined && (HTTP_SEARCH_PROVIDERS as readonly string[]).includes(search.provider);
  // Every search and fetch of this process (all its jobs) shares these slots.
  const slots = createLocalSemaphore(config.concurrency);

  async function run(name: WebToolName, args: Record<string, unknown>, signal?: AbortSignal) {
    if (name === "web_search") {
      const result = await webSearch(searchArguments(args, config), search, config, signal);
      const execution: ToolExecution = {
        name,
        ok: true,
        content: JSON.stringify(result),
        urls: result.results.map((r) => (r.title ? { url: r.url, title: r.title } : { url: r.url })),
      };
      return execution;
    }
    const result = await webFetch(fetchArguments(args), config, signal);
    const execution: ToolExecution = {
      name,
      ok: true,
      content: JSON.stringify(result),
      urls: [result.title ? { url: result.url, title: result.title } : { url: result.url }],
    };
    return execution;
  }

  function isAvailable(name: WebToolName): boolean {
    return name === "web_fetch" || (name === "web_search" && searchRuns);
  }

  return {
    maxCallsPerTurn: config.maxCallsPerTurn,
    searchProvider: search.provider,

    definitions(names) {
      const seen = new Set<WebToolName>();
      const definitions: FunctionToolDefinition[] = [];
      for (const name of names) {
        if (!isWebToolName(name) || seen.has(name) || !isAvailable(name)) continue;
        seen.add(name);
        definitions.push(toolDefinition(name, config.defaultSearchResults));
      }
      return definitions;
    },

    serverTools(names) {
      if (search.provider !== "openrouter" || !names.includes("web_search")) return [];
      return [{ type: "openrouter:web_search", parameters: { max_results: config.defaultSearchResults } }];
    },

    isAvailable,

    async execute(name, argumentsJson, signal) {
      signal?.throwIfAborted();
      if (!isWebToolName(name)) {
        return failure(name, `unknown tool ${name}; available: ${WEB_TOOL_NAMES.join(", ")}`);
      }
      try {
        const args = parseArguments(typeof argumentsJson === "string" ? argumentsJson : "");
        return await slots.run(() => run(name, args, signal), signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof InvalidArguments) return failure(name, `invalid arguments: ${error.message}`);
        return failure(name, errorMessage(error));
      }
    },
  };
}
