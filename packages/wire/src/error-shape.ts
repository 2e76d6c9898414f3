/**
 * One error class and one error shape for the edge: `{ error: { code, message, metadata? } }`,
 * the shape OpenAI and OpenRouter clients already understand.
 */
export const errorStatus = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  timeout: 408,
  /** A request whose Idempotency-Key is still being accepted by another request. */
  conflict: 409,
  /** A fusion whose events expired while its record lives: it cannot be read again. */
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** An Idempotency-Key sent again with a different request. */
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  upstream_error: 502,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface ErrorBody {
  error: { code: number; message: string; type: ErrorCode; metadata?: Record<string, unknown> };
}

export class FusionError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly metadata: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { metadata?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "FusionError";
    this.code = code;
    this.status = errorStatus[code];
    this.metadata = options.metadata;
    this.headers = options.headers;
  }

  toBody(): ErrorBody {
    return errorBody(this.status, this.message, this.code, this.metadata);
  }
}

/** OpenRouter puts the HTTP status in `code`; `type` names it for humans. */
export function errorBody(
  status: number,
  message: string,
  type?: ErrorCode,
  metadata?: Record<string, unknown>,
): ErrorBody {
  const named = type ?? statusToCode(status);
  return { error: { code: status, message, type: named, ...(metadata ? { metadata } : {}) } };
}

function statusToCode(status: number): ErrorCode {
  for (const [code, s] of Object.entries(errorStatus)) {
    if (s === status) return code as ErrorCode;
  }
  return status >= 500 ? "upstream_error" : "bad_request";
}
