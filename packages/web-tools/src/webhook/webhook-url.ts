import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { LookupFn } from "../config.ts";
import { type CheckedUrl, checkUrl, FetchRefusedError, HostResolutionError } from "../ssrf.ts";

/** The longest callback URL accepted (the wire's MAX_WEBHOOK_URL_CHARS). */
const MAX_URL_CHARS = 2048;

/** A callback URL refused by policy or whose host does not resolve: the message says why, for a 400. */
export class WebhookUrlError extends Error {
  override name = "WebhookUrlError";
  /** `refused` by policy (for good), or its host `unresolved` (DNS may answer later). */
  readonly kind: "refused" | "unresolved";

  constructor(message: string, kind: "refused" | "unresolved" = "refused") {
    super(message);
    this.kind = kind;
  }
}

export interface WebhookUrlOptions {
  /** `host` or `host:port` entries a callback may reach although they are not public (WEBHOOK_ALLOW_HOSTS). */
  allowHosts: readonly string[];
  /** DNS resolution; default: every address node:dns finds. */
  lookup?: LookupFn;
}

const systemLookup: LookupFn = async (hostname) => {
  const results = await dnsLookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

/**
 * What is wrong with a callback URL on its face (scheme, credentials, length), or undefined: the check
 * of a configured default, which is resolved only when a webhook is sent.
 */
export function webhookUrlProblem(url: string): string | undefined {
  if (url.length > MAX_URL_CHARS) return `must be at most ${MAX_URL_CHARS} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute http(s) URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be an http(s) URL";
  if (parsed.username || parsed.password) return "must not hold credentials";
  return undefined;
}

/**
 * Checks a callback URL as web_fetch checks a page (`checkUrl`): http(s) only, no credentials, at most
 * 2,048 characters, and a host that is neither a local name, nor an IP literal, nor a name resolving to
 * a non-public address, unless `allowHosts` lists it. Resolves to the checked URL with the addresses a
 * delivery may connect to; throws WebhookUrlError otherwise.
 */
export async function checkWebhookUrl(url: string, options: WebhookUrlOptions): Promise<CheckedUrl> {
  const problem = webhookUrlProblem(url);
  if (problem) throw new WebhookUrlError(`the webhook URL ${problem}`);
  const parsed = new URL(url);
  const literal = isIP(parsed.hostname.replace(/^\[(.*)\]$/, "$1")) !== 0;
  try {
    const checked = await checkUrl(parsed, {
      allowHosts: options.allowHosts,
      lookup: options.lookup ?? systemLookup,
    });
    // An IP literal is refused even when public: a receiver is named by its host name, or allow-listed.
    if (literal && !checked.allowed)
      throw new WebhookUrlError("the webhook URL must name its host, not an IP address");
    return checked;
  } catch (error) {
    if (error instanceof FetchRefusedError)
      throw new WebhookUrlError(`the webhook URL is refused: ${error.reason}`);
    if (error instanceof HostResolutionError)
      throw new WebhookUrlError(
        `the webhook URL's host ${error.hostname} could not be resolved`,
        "unresolved",
      );
    throw error;
  }
}
