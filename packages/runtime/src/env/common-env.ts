import { DIALECTS, STRUCTURED_OUTPUTS } from "@fusion/llm-client";
import { z } from "zod";
import { redisClusterNodesEnv } from "../redis/redis.ts";

/**
 * Turns `process.env` into a typed object once, at start-up. A wrong value ends the process with a
 * message that names the variable, rather than surfacing later as a confusing failure.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  throw invalidConfiguration(result.error.issues.map((i) => [i.path.join(".") || "(env)", i.message]));
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The error of a wrong configuration: one line per `[variable, problem]`. */
export function invalidConfiguration(problems: Array<[variable: string, message: string]>): ConfigError {
  const lines = problems.map(([variable, message]) => `  ${variable}: ${message}`);
  return new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}

/** A boolean variable: only the words people write mean anything ("false" is false). */
export const envBoolean = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off", ""])
    .optional()
    .transform((v) => (v === undefined || v === "" ? fallback : ["true", "1", "yes", "on"].includes(v)));

export const envInt = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

export const envList = () =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    );

export const envUrl = (fallback?: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v?.trim() ? v.trim() : fallback;
      if (value === undefined) return undefined;
      try {
        return new URL(value).toString().replace(/\/$/, "");
      } catch {
        ctx.addIssue({ code: "custom", message: `must be a URL, got "${value}"` });
        return z.NEVER;
      }
    });

/** One of `values`; unset or empty: undefined. */
const envChoice = <T extends string>(values: readonly T[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx): T | undefined => {
      const value = v?.trim();
      if (!value) return undefined;
      const match = values.find((allowed) => allowed === value);
      if (match === undefined) {
        ctx.addIssue({ code: "custom", message: `must be one of ${values.join(", ")}, got "${value}"` });
        return z.NEVER;
      }
      return match;
    });

/** Settings every service shares. */
export const commonEnvSchema = z.object({
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  /** Seed nodes of a Redis Cluster (`host:port,...`): when set, every connection goes to the cluster, not REDIS_URL. */
  REDIS_CLUSTER_NODES: redisClusterNodesEnv(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  UPSTREAM_BASE_URL: envUrl("https://openrouter.ai/api/v1"),
  UPSTREAM_API_KEY: z.string().optional(),
  /** The request dialect of UPSTREAM_BASE_URL; unset: the one its URL implies. */
  UPSTREAM_DIALECT: envChoice(DIALECTS),
  /** The `response_format` UPSTREAM_BASE_URL honours; unset: its dialect's default. */
  UPSTREAM_STRUCTURED_OUTPUT: envChoice(STRUCTURED_OUTPUTS),
  /**
   * Path of a providers file (JSON or YAML): routes model slugs to upstreams, adds presets. Only the
   * path is parsed here; `loadProvidersFromEnv` reads the file once, at start-up.
   */
  FUSION_CONFIG: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
  OPENROUTER_API_KEY: z.string().optional(),
  /** Time to the upstream's response headers (first byte), per call. */
  UPSTREAM_HEADERS_TIMEOUT_MS: envInt(60_000, 1),
  /** Longest silence while an upstream body streams. */
  UPSTREAM_BODY_TIMEOUT_MS: envInt(120_000, 1),
  UPSTREAM_MAX_RETRIES: envInt(3, 0, 20),
  /** Connections per upstream origin and process. Each panel call or stream holds one while it runs. */
  UPSTREAM_CONNECTIONS: envInt(2048, 1, 65_536),
  UPSTREAM_RETRY_BASE_MS: envInt(500, 0),
  UPSTREAM_RETRY_MAX_MS: envInt(30_000, 0),
  JOB_RETENTION_SECONDS: envInt(3600, 1),
  /** How long a fusion's output stream (and so its resume and read endpoints) outlives its last event. */
  STREAM_RETENTION_SECONDS: envInt(600, 1),
  /** Cap of BullMQ's per-queue events stream, which we do not read: kept small so Redis stays bounded. */
  QUEUE_EVENTS_MAX_LEN: envInt(500, 0),
  /** When set, `/metrics` (gateway and workers) needs `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().optional(),
});
export type CommonEnv = z.infer<typeof commonEnvSchema>;

export function upstreamApiKey(env: CommonEnv): string | undefined {
  return env.UPSTREAM_API_KEY?.trim() || env.OPENROUTER_API_KEY?.trim() || undefined;
}
