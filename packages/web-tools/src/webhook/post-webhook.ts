import { request } from "undici";
import type { ResolvedAddress } from "../config.ts";
import { discard, readLimited } from "../body.ts";
import { createPinnedAgent } from "../pinned-agent.ts";
import { errorMessage } from "../tool-error.ts";
import { checkWebhookUrl, type WebhookUrlOptions } from "./webhook-url.ts";

/** Bytes of a receiver's answer read (then dropped): enough to end the exchange, never a memory risk. */
const MAX_RESPONSE_BYTES = 4096;

export interface PostWebhookOptions extends WebhookUrlOptions {
  /** Time for the whole exchange: connect, send, the answer's status and its first bytes. */
  timeoutMs: number;
}

/** A delivery that got no HTTP status: refused by policy, unresolvable, unreachable, or timed out. */
class WebhookPostError extends Error {
  override name = "WebhookPostError";
}

/**
 * POSTs a webhook's JSON body with its headers and resolves to the receiver's HTTP status. The URL is
 * checked again (`checkWebhookUrl`), and the connection goes only to the addresses that check
 * verified (a pinned agent: DNS cannot rebind the host in between). Redirects are not followed (a 3xx
 * is the status). Throws WebhookPostError when there is no status.
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: PostWebhookOptions,
): Promise<number> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const pins = new Map<string, ResolvedAddress[]>();
  const agent = createPinnedAgent(pins);
  try {
    const checked = await checkWebhookUrl(url, options);
    pins.set(checked.hostname.toLowerCase(), checked.addresses);
    const response = await request(checked.url, {
      method: "POST",
      dispatcher: agent,
      signal: timeout,
      headers: { "content-type": "application/json", "user-agent": "FusionWebhooks/0.1", ...headers },
      body,
    });
    await readLimited(response.body, MAX_RESPONSE_BYTES).catch(() => undefined);
    discard(response.body);
    return response.statusCode;
  } catch (error) {
    if (timeout.aborted) throw new WebhookPostError(`timed out after ${options.timeoutMs} ms`);
    throw new WebhookPostError(errorMessage(error), { cause: error });
  } finally {
    await agent.destroy().catch(() => {});
  }
}
