import { KeyLimits, type Logger, type RedisClient } from "@fusion/runtime";

/** The limits as `env.ts` configures them, on the gateway's command connection. */
export function keyLimitsFromEnv(deps: {
  redis: RedisClient;
  logger?: Logger;
  env: {
    QUEUE_PREFIX: string;
    RATE_LIMIT_RPM: number;
    MAX_CONCURRENT_FUSIONS: number;
    FUSION_TIMEOUT_MS: number;
  };
}): KeyLimits {
  return new KeyLimits(deps.redis, {
    prefix: deps.env.QUEUE_PREFIX,
    rpm: deps.env.RATE_LIMIT_RPM,
    maxConcurrent: deps.env.MAX_CONCURRENT_FUSIONS,
    // A response ends by FUSION_TIMEOUT_MS at the latest; the margin covers the final frames.
    maxHoldMs: deps.env.FUSION_TIMEOUT_MS + 60_000,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
