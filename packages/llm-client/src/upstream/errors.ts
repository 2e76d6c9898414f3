/**
 * The one error type of the upstream client. Like the AI SDK's `APICallError` and openai-node's
 * `APIError`, it knows whether sending the same request again may succeed (`retryable`).
 */

export type UpstreamErrorKind = "http" | "timeout" | "network" | "protocol" | "aborted";

export interface UpstreamErrorOptions {
  /** HTTP status (kind "http"), or the numeric `code` of a mid-stream error chunk. */
  status?: number;
  /** Defaults by kind: http → `isRetryableStatus(status)`, timeout/network → true, protocol/aborted → false. */
  retryable?: boolean;
  retryAfterMs?: number;
  /** The parsed error body (at most 64 KiB of it was read). */
  body?: unknown;
  cause?: unknown;
}

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly body?: unknown;

  constructor(kind: UpstreamErrorKind, message: string, options: UpstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UpstreamError";
    this.kind = kind;
    if (options.status !== undefined) this.status = options.status;
    this.retryable = options.retryable ?? defaultRetryable(kind, options.status);
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.body !== undefined) this.body = options.body;
  }
}

/** 408, 409, 425, 429 and 5xx may succeed when sent again; every other status will not. */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 || status === 409 || status === 425 || status === 429 || (status >= 500 && status < 600)
  );
}

function defaultRetryable(kind: UpstreamErrorKind, status: number | undefined): boolean {
  switch (kind) {
    case "http":
      return status !== undefined && isRetryableStatus(status);
    case "timeout":
    case "network":
      return true;
    default:
      return false;
  }
}

/** Replaces every secret (API key, bearer token) in a text. Secrets shorter than 4 characters are ignored. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.replaceAll(secret, "[redacted]");
  }
  return out;
}

/** A JSON value with every secret replaced (through a JSON round trip); non-JSON values come back as they are. */
export function redactJson(value: unknown, secrets: readonly string[]): unknown {
  if (value === undefined) return undefined;
  try {
    const text = JSON.stringify(value);
    const redacted = redactSecrets(text, secrets);
    return redacted === text ? value : JSON.parse(redacted);
  } catch {
    return value;
  }
}

const timeoutCodes = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);

/** Errors that say the request itself is wrong or the client is gone: sending it again will not help. */
const permanentCodes = new Set([
  "UND_ERR_INVALID_ARG",
  "UND_ERR_INVALID_RETURN_VALUE",
  "UND_ERR_NOT_SUPPORTED",
  "UND_ERR_DESTROYED",
  "UND_ERR_CLOSED",
  "ERR_INVALID_ARG_TYPE",
  "ERR_INVALID_ARG_VALUE",
  "ERR_INVALID_URL",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_INVALID_CHAR",
]);

export interface ErrorContext {
  /** Appended to messages, e.g. " (model openai/gpt-5)"; may be empty. */
  suffix: string;
  signal?: AbortSignal | undefined;
  secrets: readonly string[];
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export function abortedError(ctx: Pick<ErrorContext, "suffix" | "signal">): UpstreamError {
  return new UpstreamError("aborted", `upstream request aborted${ctx.suffix}`, { cause: ctx.signal?.reason });
}

/**
 * Maps whatever an undici call, a body read or a sleep threw to an UpstreamError. An UpstreamError
 * passes through unchanged, except that an aborted signal always wins.
 */
export function toUpstreamError(err: unknown, ctx: ErrorContext): UpstreamError {
  if (ctx.signal?.aborted) {
    return err instanceof UpstreamError && err.kind === "aborted" ? err : abortedError(ctx);
  }
  if (err instanceof UpstreamError) return err;
  const code = errorCode(err);
  const detail = redactSecrets(errorMessage(err), ctx.secrets);
  if (code === "UND_ERR_HEADERS_TIMEOUT") {
    return new UpstreamError(
      "timeout",
      `upstream sent no response headers within ${ctx.headersTimeoutMs} ms${ctx.suffix}`,
      { cause: err },
    );
  }
  if (code === "UND_ERR_BODY_TIMEOUT") {
    return new UpstreamError(
      "timeout",
      `upstream response body was idle for more than ${ctx.bodyTimeoutMs} ms${ctx.suffix}`,
      { cause: err },
    );
  }
  if (code !== undefined && timeoutCodes.has(code)) {
    return new UpstreamError("timeout", `upstream connection timed out: ${detail}${ctx.suffix}`, {
      cause: err,
    });
  }
  if (code === "UND_ERR_ABORTED" || isAbortError(err)) {
    // Aborted, but not by the caller's signal (e.g. the body was destroyed): treat as a lost connection.
    return new UpstreamError("network", `upstream request was cut off: ${detail}${ctx.suffix}`, {
      cause: err,
    });
  }
  const permanent = (code !== undefined && permanentCodes.has(code)) || err instanceof TypeError;
  return new UpstreamError("network", `upstream connection failed: ${detail}${ctx.suffix}`, {
    cause: err,
    retryable: !permanent,
  });
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string")
    return err.code;
  // Node reports a failed multi-address connect as an AggregateError whose members carry the code.
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const c = errorCode(inner);
      if (c !== undefined) return c;
    }
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0 && err.message === "") {
    return err.errors.map(errorMessage).join("; ");
  }
  if (err instanceof Error) return err.message || err.name || "unknown error";
  return String(err);
}

function isAbortError(err: unknown): boolean {
  return typeof err === "object" && err !== null && "name" in err && err.name === "AbortError";
}

/** Longest upstream-provided text copied into an error message. */
const maxDetail = 500;

/**
 * Builds the error for a non-2xx response (or a 2xx JSON body that only holds `{error}`), from at most
 * 64 KiB of its body. `{error: {message, code}}` bodies give the message; other text is quoted briefly.
 */
export function httpError(
  status: number,
  bodyText: string,
  ctx: Pick<ErrorContext, "suffix" | "secrets">,
  retryAfterMs?: number,
): UpstreamError {
  const text = redactSecrets(bodyText, ctx.secrets);
  let body: unknown = text === "" ? undefined : text;
  let detail = "";
  try {
    body = JSON.parse(text);
    detail = errorBodyMessage(body) ?? "";
  } catch {
    detail = text.replace(/\s+/g, " ").trim();
  }
  if (detail.length > maxDetail) detail = `${detail.slice(0, maxDetail)}…`;
  const message = `upstream returned ${status}${detail ? `: ${detail}` : ""}${ctx.suffix}`;
  return new UpstreamError("http", message, {
    status,
    body,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** `{error: {message}}`, `{error: "text"}` or `{message}`. */
export function errorBodyMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const error = body.error;
  if (typeof error === "string") return error;
  if (isRecord(error) && typeof error.message === "string") return error.message;
  if (typeof body.message === "string") return body.message;
  return undefined;
}

/** The numeric status in an error body's `code` (OpenRouter puts the HTTP status there), if any. */
export function errorBodyStatus(body: unknown): number | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const code = body.error.code;
  const n =
    typeof code === "number" ? code : typeof code === "string" && /^\d{3}$/.test(code) ? Number(code) : NaN;
  return Number.isInteger(n) && n >= 100 && n < 600 ? n : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
