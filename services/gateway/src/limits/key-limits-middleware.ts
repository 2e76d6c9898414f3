import type { KeyLimits, LimitDecision, Logger } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../factory.ts";
import { retryAfterSeconds } from "./retry-after.ts";

/**
 * Counts each API request against the key's per-minute limit (429 with Retry-After beyond it) and
 * offers the limits to the route (see `acquireFusionSlot`: a fusion's slot lives until the fusion
 * ends, not with this response). When Redis does not answer, the request goes through (logged).
 */
export function keyLimitsMiddleware(limits: KeyLimits, logger?: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("keyLimits", limits);
    if (limits.rpm > 0) {
      let decision: LimitDecision | undefined;
      try {
        decision = await limits.hit(c.get("keyId"));
      } catch (err) {
        logger?.warn(
          { err: (err as Error).message },
          "rate limit unavailable (Redis): letting the request through",
        );
      }
      if (decision && !decision.allowed) {
        throw new FusionError(
          "rate_limited",
          `rate limit exceeded: at most ${limits.rpm} requests per minute for this API key`,
          {
            headers: { "retry-after": retryAfterSeconds(decision.retryAfterMs) },
            metadata: { limit: "requests_per_minute", max: limits.rpm },
          },
        );
      }
    }
    await next();
  };
}
