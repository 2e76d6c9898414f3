import {
  commonEnvSchema,
  envBoolean,
  envInt,
  envList,
  queuePrefixSchema,
  queueShardsSchema,
  webhookGatewayEnv,
} from "@fusion/runtime";
import { batchStorageEnv } from "@fusion/intake";
import { z } from "zod";

/** RFC 6750 `b64token`: what `Authorization: Bearer <token>` may carry. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

export const gatewayEnvSchema = commonEnvSchema.extend({
  PORT: envInt(8080, 0, 65_535),
  /** Connections the kernel queues for the gateway before it accepts them (capped by net.core.somaxconn). */
  LISTEN_BACKLOG: envInt(4096, 1, 65_535),
  /** Address the gateway listens on: loopback unless set (compose sets 0.0.0.0). */
  HOST: z.string().default("127.0.0.1"),
  /**
   * Without GATEWAY_API_KEYS the gateway refuses to listen on a non-loopback HOST (anyone reaching the
   * port would spend the upstream key) unless this is true.
   */
  ALLOW_UNAUTHENTICATED: envBoolean(false),
  /**
   * Secret of the keyed hash (HMAC-SHA256) that turns an API key into its owner id; unset, a random
   * secret is made once per deployment and kept in Redis.
   */
  OWNER_ID_SECRET: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
  /** Longest a client may take to send a request's headers (408 and closed after). */
  HTTP_HEADERS_TIMEOUT_MS: envInt(10_000, 100),
  /** Longest a client may take to send a whole request, headers and body (408 and closed after). */
  HTTP_REQUEST_TIMEOUT_MS: envInt(60_000, 100),
  /** Open client connections the gateway accepts at once; more are closed as they arrive. */
  MAX_CONNECTIONS: envInt(4096, 1),
  /** API keys: RFC 6750 bearer tokens (A-Z a-z 0-9 . _ ~ + / - and trailing =), the only ones a client can send. */
  GATEWAY_API_KEYS: envList().refine((keys) => keys.every((k) => BEARER_TOKEN.test(k)), {
    message: "each key must be a bearer token: letters, digits and . _ ~ + / - with = only at the end",
  }),
  QUEUE_PREFIX: queuePrefixSchema,
  /** Queue sets under their own hash tags; each fusion goes to the shard its id hashes to. The same in every service. */
  QUEUE_SHARDS: queueShardsSchema,
  /** Interval of `: OPENROUTER PROCESSING` comment frames while a fusion works. */
  KEEPALIVE_MS: envInt(10_000, 50),
  /** Bytes of SSE frames held for one client before the gateway stops reading its fusion's events (it pulls). */
  SSE_BUFFER_BYTES: envInt(64 * 1024, 1024),
  /** A client that takes nothing for this long while its SSE buffer is full is disconnected (it may resume). */
  SSE_SLOW_READER_MS: envInt(30_000, 50),
  /** SSE streams open at once per API key (new fusions' and resumes), across every gateway; 429 beyond; 0 turns it off. */
  MAX_OPEN_STREAMS_PER_KEY: envInt(32, 0),
  /** Longest a request waits for its fusion before it is answered 408. */
  FUSION_TIMEOUT_MS: envInt(600_000, 1000),
  BODY_LIMIT_BYTES: envInt(4 * 1024 * 1024, 1024),
  /**
   * New fusions get 503 with Retry-After while Redis's used memory is at or above this percent of its
   * `maxmemory` (read at most once a second); 0 turns the check off. A Redis without maxmemory is never full.
   */
  REDIS_MEMORY_ADMISSION_PERCENT: envInt(90, 0, 100),
  /** Most messages one request may hold (400 beyond). */
  MAX_MESSAGES: envInt(1000, 1),
  /** Most characters of text in one message: string content, text parts, tool-call arguments. */
  MAX_MESSAGE_CHARS: envInt(1_000_000, 1),
  /** Most characters of text in all messages of one request together. */
  MAX_TOTAL_CHARS: envInt(4_000_000, 1),
  /** Requests per minute per API key, counted in Redis across every gateway; 0 turns it off. */
  RATE_LIMIT_RPM: envInt(0, 0),
  /**
   * Fusions in flight per API key, counted in Redis across every gateway from enqueue to the fusion's
   * end (done, failed, cancelled); 0 turns it off. On by default: one fusion fans out to every panel
   * model, their tool calls and copies of the conversation in Redis, so an unlimited key can take every
   * worker slot and fill Redis for all tenants; 16 is well above what one interactive client runs.
   */
  MAX_CONCURRENT_FUSIONS: envInt(16, 0),
  /**
   * When a client disconnects, its fusion is cancelled at once (as OpenRouter does) unless the request
   * asked to keep it for a resume (`"fusion": {"resume_grace_ms": N}`): it then runs that long with no
   * reader before it is cancelled. This is the grace of requests that do not ask; 0 by default.
   */
  RESUME_GRACE_MS: envInt(0, 0),
  /** Longest resume grace a request may ask for (a larger one is cut to this). */
  RESUME_GRACE_MAX_MS: envInt(60_000, 0),
  /**
   * Resume grace of a fusion whose request carries an `Idempotency-Key` and asks for none itself: its
   * client may drop and retry (the retry streams the same fusion). Cut to RESUME_GRACE_MAX_MS.
   */
  IDEMPOTENT_RESUME_GRACE_MS: envInt(60_000, 0),
  /**
   * How long an `Idempotency-Key` is remembered (per API key, across gateways) once its fusion is
   * enqueued: a retry within it gets the same fusion, or 410 once that fusion's records have expired.
   */
  IDEMPOTENCY_TTL_MS: envInt(24 * 3600_000, 1000, 7 * 24 * 3600_000),
  /** When set, Bull Board is served at /admin/queues to requests carrying this key; unset: /admin/* is 404. */
  ADMIN_API_KEY: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
  /** The dashboard only looks (no retry, clean, pause, add or obliterate) unless this is false. */
  ADMIN_QUEUES_READ_ONLY: envBoolean(true),
  /** Serve the lab page at /lab (public; the API it calls still checks the key); false: /lab is 404. */
  LAB_ENABLED: envBoolean(true),
  /** Grace period for open streams on SIGTERM. */
  SHUTDOWN_GRACE_MS: envInt(30_000, 0),
  /** Webhooks: the default callback, the signing secret, the hosts allowed although internal. */
  ...webhookGatewayEnv,
  /** The Batch API's bounds: file bytes and lines, files and batches per key, retention. */
  ...batchStorageEnv,
});
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;
