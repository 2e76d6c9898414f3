import { commonEnvSchema, envBoolean, envInt, envList, queuePrefixSchema } from "@fusion/runtime";
import { z } from "zod";

/** RFC 6750 `b64token`: what `Authorization: Bearer <token>` may carry. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

export const gatewayEnvSchema = commonEnvSchema.extend({
  PORT: envInt(8080, 0, 65_535),
  /** Connections the kernel queues for the gateway before it accepts them (capped by net.core.somaxconn). */
  LISTEN_BACKLOG: envInt(4096, 1, 65_535),
  HOST: z.string().default("0.0.0.0"),
  /** API keys: RFC 6750 bearer tokens (A-Z a-z 0-9 . _ ~ + / - and trailing =), the only ones a client can send. */
  GATEWAY_API_KEYS: envList().refine((keys) => keys.every((k) => BEARER_TOKEN.test(k)), {
    message: "each key must be a bearer token: letters, digits and . _ ~ + / - with = only at the end",
  }),
  QUEUE_PREFIX: queuePrefixSchema,
  /** Interval of `: OPENROUTER PROCESSING` comment frames while a fusion works. */
  KEEPALIVE_MS: envInt(10_000, 50),
  /** Longest a request waits for its fusion before it is answered 408. */
  FUSION_TIMEOUT_MS: envInt(600_000, 1000),
  BODY_LIMIT_BYTES: envInt(4 * 1024 * 1024, 1024),
  /** Most messages one request may hold (400 beyond). */
  MAX_MESSAGES: envInt(1000, 1),
  /** Most characters of text in one message: string content, text parts, tool-call arguments. */
  MAX_MESSAGE_CHARS: envInt(1_000_000, 1),
  /** Most characters of text in all messages of one request together. */
  MAX_TOTAL_CHARS: envInt(4_000_000, 1),
  /** Requests per minute per API key, counted in Redis across every gateway; 0 turns it off. */
  RATE_LIMIT_RPM: envInt(0, 0),
  /** Fusions in flight per API key, counted in Redis across every gateway; 0 turns it off. */
  MAX_CONCURRENT_FUSIONS: envInt(0, 0),
  /**
   * When a client disconnects, its fusion keeps running this long for it to resume the stream (from
   * any gateway); with no reader back by then, the fusion is cancelled. 0 cancels at once.
   */
  RESUME_GRACE_MS: envInt(5_000, 0),
  /** When set, Bull Board is served at /admin/queues to requests carrying this key; unset: /admin/* is 404. */
  ADMIN_API_KEY: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
  /** The dashboard only looks (no retry, clean, pause, add or obliterate) unless this is false. */
  ADMIN_QUEUES_READ_ONLY: envBoolean(true),
  /** Grace period for open streams on SIGTERM. */
  SHUTDOWN_GRACE_MS: envInt(30_000, 0),
});
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;
