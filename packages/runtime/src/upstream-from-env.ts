import type { FusionConfig, Upstream } from "@fusion/llm-client";
import { ProviderRouter, resolveCapabilities, UpstreamClient } from "@fusion/llm-client";
import type { CommonEnv } from "./env/common-env.ts";
import { upstreamApiKey } from "./env/common-env.ts";
import { RedisSemaphore } from "./leases/redis-semaphore.ts";
import type { Logger } from "./logger.ts";
import { recordUpstreamError } from "./metrics/recorders.ts";
import type { RedisClient } from "./redis/redis.ts";

export interface UpstreamFromEnvOptions {
  /** The providers file `FUSION_CONFIG` names, loaded at start-up (`loadProvidersFromEnv`); undefined without one. */
  providers: FusionConfig | undefined;
  /** Holds the providers' concurrency limits (`max_concurrency`) across processes. */
  redis?: RedisClient;
  /** Namespace of those limits' keys: the queue prefix, which carries the hash tag. */
  keyPrefix?: string;
  /** Overrides `UPSTREAM_MAX_RETRIES` (and the providers' `max_retries`), e.g. 0 for a pure proxy. */
  maxRetries?: number;
}

/**
 * The upstream of a service: a ProviderRouter over the providers of `FUSION_CONFIG` when there is a
 * providers file, else the one upstream of `UPSTREAM_BASE_URL` (see `singleUpstream`). Timeouts and
 * retries from the environment are the defaults a provider may override.
 */
export function createUpstreamFromEnv(
  env: CommonEnv,
  logger: Logger,
  options: UpstreamFromEnvOptions,
): Upstream {
  const defaults = {
    headersTimeoutMs: env.UPSTREAM_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: env.UPSTREAM_BODY_TIMEOUT_MS,
    maxRetries: options.maxRetries ?? env.UPSTREAM_MAX_RETRIES,
    retryBaseMs: env.UPSTREAM_RETRY_BASE_MS,
    retryMaxMs: env.UPSTREAM_RETRY_MAX_MS,
    connections: env.UPSTREAM_CONNECTIONS,
    logger,
    onError: (error: Parameters<typeof recordUpstreamError>[0]) => recordUpstreamError(error),
  };
  const config = options.providers;
  if (!config) return singleUpstream(env, defaults, logger);
  const providers =
    options.maxRetries === undefined
      ? config.providers
      : Object.fromEntries(
          Object.entries(config.providers).map(([name, p]) => [
            name,
            { ...p, maxRetries: options.maxRetries },
          ]),
        );
  logger.info(
    {
      config: config.path,
      providers: Object.values(config.providers).map((p) => ({
        name: p.name,
        baseUrl: withoutCredentials(p.baseUrl),
        ...resolveCapabilities(p.baseUrl, p),
        ...(p.maxConcurrency !== undefined ? { maxConcurrency: p.maxConcurrency } : {}),
      })),
      routes: config.routes.map((r) => `${r.match} → ${r.provider}`),
    },
    "routing models to providers",
  );
  const { redis } = options;
  const prefix = options.keyPrefix ?? "{fusion}";
  return new ProviderRouter({
    config: { providers, routes: config.routes },
    defaults,
    logger,
    ...(redis
      ? {
          limiter: (name: string, limit: number) =>
            new RedisSemaphore({
              redis,
              key: `${prefix}:provider:${name}`,
              limit,
              name: `provider ${name}`,
              logger,
            }),
        }
      : {}),
  });
}

/**
 * The upstream of `UPSTREAM_BASE_URL`, in the dialect its URL implies or `UPSTREAM_DIALECT` names: one
 * client, which sends bodies as they are (OpenRouter's dialect), or else a ProviderRouter over that one
 * provider, which shapes them for its dialect and reports its structured output.
 */
function singleUpstream(
  env: CommonEnv,
  defaults: Omit<ConstructorParameters<typeof UpstreamClient>[0], "baseUrl" | "apiKey" | "headers">,
  logger: Logger,
): Upstream {
  const baseUrl = env.UPSTREAM_BASE_URL ?? "https://openrouter.ai/api/v1";
  const apiKey = upstreamApiKey(env);
  const { dialect, structuredOutput } = resolveCapabilities(baseUrl, {
    dialect: env.UPSTREAM_DIALECT,
    structuredOutput: env.UPSTREAM_STRUCTURED_OUTPUT,
  });
  if (dialect === "openrouter" && structuredOutput === "json_schema") {
    return new UpstreamClient({ ...defaults, baseUrl, apiKey });
  }
  logger.info({ baseUrl: withoutCredentials(baseUrl), dialect, structuredOutput }, "upstream dialect");
  const provider = { name: "upstream", baseUrl, headers: {}, dialect, structuredOutput };
  return new ProviderRouter({
    config: {
      providers: { upstream: apiKey ? { ...provider, apiKey } : provider },
      routes: [{ match: "*", provider: "upstream" }],
    },
    defaults,
    logger,
  });
}

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.toString().replace(/\/$/, "");
}
