import { webhookUrlProblem } from "@fusion/web-tools";
import type { GatewayEnv } from "../env.ts";

/**
 * What is wrong with the deployment's webhook settings, as `[variable, problem]` pairs for a start-up
 * error: a default WEBHOOK_URL needs WEBHOOK_SECRET (every webhook is signed), and must be an http(s)
 * URL without credentials. Its host is checked with each request, as a request's own URL is.
 */
export function webhookConfigProblems(
  env: Pick<GatewayEnv, "WEBHOOK_URL" | "WEBHOOK_SECRET">,
): Array<[variable: string, problem: string]> {
  if (env.WEBHOOK_URL === undefined) return [];
  const problem = webhookUrlProblem(env.WEBHOOK_URL);
  if (problem) return [["WEBHOOK_URL", problem]];
  if (!env.WEBHOOK_SECRET)
    return [["WEBHOOK_SECRET", "must be set when WEBHOOK_URL is (webhooks are signed)"]];
  return [];
}
