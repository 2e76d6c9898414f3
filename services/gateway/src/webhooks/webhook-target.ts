import { checkWebhookUrl, WebhookUrlError } from "@fusion/web-tools";
import { type FusionOptions, FusionError } from "@fusion/wire";
import type { GatewayEnv } from "../env.ts";

type WebhookEnv = Pick<GatewayEnv, "WEBHOOK_URL" | "WEBHOOK_SECRET" | "WEBHOOK_ALLOW_HOSTS">;

/** The DNS resolution the URL check uses (tests pass their own). */
type Lookup = Parameters<typeof checkWebhookUrl>[1]["lookup"];

/**
 * The callback a fusion notifies when it ends: the request's `"fusion": {"webhook": {"url": ...}}`,
 * else the deployment's WEBHOOK_URL; none when the request says `"webhook": false` (or null) or neither
 * names one. The URL passes the web_fetch guard (`checkWebhookUrl`: http(s), no credentials, no IP
 * literal nor non-public address unless WEBHOOK_ALLOW_HOSTS lists its host) now, and again at each
 * delivery. A 400 in the error shape when it does not, or when no WEBHOOK_SECRET could sign it.
 */
export async function webhookTarget(
  fusionOptions: FusionOptions | null | undefined,
  env: WebhookEnv,
  lookup?: Lookup,
): Promise<string | undefined> {
  const asked = fusionOptions?.webhook;
  if (asked === null || asked === false) return undefined;
  const url = asked === undefined ? env.WEBHOOK_URL : asked.url;
  if (url === undefined) return undefined;
  if (!env.WEBHOOK_SECRET)
    throw new FusionError(
      "bad_request",
      "invalid request: fusion.webhook: webhooks are not available on this deployment (no WEBHOOK_SECRET to sign them)",
    );
  try {
    await checkWebhookUrl(url, { allowHosts: env.WEBHOOK_ALLOW_HOSTS, ...(lookup ? { lookup } : {}) });
  } catch (err: unknown) {
    if (err instanceof WebhookUrlError) {
      const where = asked === undefined ? "the deployment's WEBHOOK_URL" : "fusion.webhook.url";
      throw new FusionError("bad_request", `invalid request: ${where}: ${err.message}`);
    }
    throw err;
  }
  return url;
}
