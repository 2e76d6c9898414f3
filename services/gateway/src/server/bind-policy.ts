import { isIP } from "node:net";
import type { GatewayEnv } from "../env.ts";

/** Whether an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Why the gateway must not start as configured, or undefined: with no GATEWAY_API_KEYS, everyone who
 * reaches the port spends the upstream key, so an open gateway listens on loopback only, unless
 * ALLOW_UNAUTHENTICATED=true says that is intended.
 */
export function unauthenticatedBindProblem(
  env: Pick<GatewayEnv, "GATEWAY_API_KEYS" | "HOST" | "ALLOW_UNAUTHENTICATED">,
): string | undefined {
  if (env.GATEWAY_API_KEYS.length > 0 || env.ALLOW_UNAUTHENTICATED || isLoopbackHost(env.HOST)) {
    return undefined;
  }
  return (
    `refusing to listen on ${env.HOST} without GATEWAY_API_KEYS: anyone who can reach it would spend ` +
    "the upstream key; set GATEWAY_API_KEYS, bind HOST=127.0.0.1, or set ALLOW_UNAUTHENTICATED=true"
  );
}
