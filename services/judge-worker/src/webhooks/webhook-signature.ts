import { Webhook } from "standardwebhooks";

/** The Standard Webhooks headers of one attempt. */
export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * Signs webhooks with WEBHOOK_SECRET (`whsec_<base64>`) as Standard Webhooks say: `webhook-signature`
 * is `v1,` and the base64 HMAC-SHA256, keyed with the secret's bytes, of `{id}.{timestamp}.{body}`,
 * `timestamp` in whole seconds. The secret stays inside; nothing here logs or returns it.
 */
export function webhookSigner(secret: string): (id: string, at: Date, body: string) => WebhookHeaders {
  const webhook = new Webhook(secret);
  return (id, at, body) => ({
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": webhook.sign(id, at, body),
  });
}
