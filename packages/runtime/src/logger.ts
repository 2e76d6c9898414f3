import { pino } from "pino";

/**
 * Paths that may hold a secret. pino replaces them before a line is written, so an upstream key, a
 * gateway key or an Authorization header never reaches a log.
 */
const redactPaths = [
  "authorization",
  "apiKey",
  "api_key",
  "token",
  "password",
  "*.authorization",
  "*.Authorization",
  "*.apiKey",
  "*.api_key",
  "*.token",
  "*.password",
  "headers.authorization",
  "req.headers.authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
  "config.upstreamApiKey",
  "config.gatewayApiKeys",
];

export type Logger = pino.Logger;

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: redactPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
