import { isRecord, isRetryableStatus, redactJson, redactSecrets, UpstreamError } from "./errors.ts";

interface StreamErrorContext {
  suffix: string;
  secrets: readonly string[];
}

/**
 * The UpstreamError for an error an upstream reported inside a stream: a chunk's `error` (OpenRouter,
 * whatever its `finish_reason`) or an `event: error` frame (Groq). Kind "http"; `status` is the error's
 * numeric `code`, else its `status_code` or `status`; retryable only when nothing was yielded yet and
 * the status is a retryable one.
 */
export function streamError(
  error: unknown,
  body: unknown,
  yielded: boolean,
  ctx: StreamErrorContext,
): UpstreamError {
  const status = statusOf(error);
  const message = redactSecrets(messageOf(error), ctx.secrets).slice(0, 500);
  return new UpstreamError(
    "http",
    `upstream stream error${status === undefined ? "" : ` ${status}`}: ${message}${ctx.suffix}`,
    {
      ...(status === undefined ? {} : { status }),
      retryable: !yielded && status !== undefined && isRetryableStatus(status),
      body: redactJson(body, ctx.secrets),
    },
  );
}

/** The error of an `event: error` frame's data: its `error` field, the JSON itself, or the raw text. */
export function errorEventError(data: string, yielded: boolean, ctx: StreamErrorContext): UpstreamError {
  let json: unknown = data;
  try {
    json = JSON.parse(data);
  } catch {
    // Not JSON: the text is the message.
  }
  const error = isRecord(json) && json.error !== undefined && json.error !== null ? json.error : json;
  return streamError(error, json, yielded, ctx);
}

function statusOf(error: unknown): number | undefined {
  if (!isRecord(error)) return undefined;
  const { code } = error;
  const numeric =
    typeof code === "number"
      ? code
      : typeof code === "string" && /^\d+$/.test(code)
        ? Number(code)
        : Number.NaN;
  if (Number.isInteger(numeric)) return numeric;
  for (const value of [error.status_code, error.status]) {
    if (typeof value === "number" && Number.isInteger(value) && value >= 100 && value < 600) return value;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  if (typeof error === "string") return error;
  if (isRecord(error)) {
    if (typeof error.message === "string" && error.message !== "") return error.message;
    if (typeof error.code === "string" && error.code !== "") return error.code;
  }
  return "the stream reported an error";
}
