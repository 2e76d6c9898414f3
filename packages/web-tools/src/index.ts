export { createWebToolsFromEnv } from "./from-env.ts";
export { createWebTools, type WebTools } from "./web-tools.ts";
export { postWebhook } from "./webhook/post-webhook.ts";
export { checkWebhookUrl, WebhookUrlError, webhookUrlProblem } from "./webhook/webhook-url.ts";
