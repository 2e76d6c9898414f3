import { type ChatCompletion, chatCompletionSchema } from "@fusion/wire";
import {
  type ErrorContext,
  errorBodyMessage,
  errorBodyStatus,
  httpError,
  isRecord,
  redactJson,
  redactSecrets,
  UpstreamError,
} from "./errors.ts";

/**
 * A non-streamed completion from its body text: JSON, not an error in disguise (OpenRouter may answer
 * 200 with only `{error: {code, message}}` when a provider fails, or with a choice that finished with
 * "error"), valid, with at least one choice. Anything else is the model's clear error.
 */
export function parseCompletionBody(text: string, ctx: ErrorContext): ChatCompletion {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const start = redactSecrets(text.slice(0, 200), ctx.secrets).replace(/\s+/g, " ");
    throw new UpstreamError(
      "protocol",
      `upstream returned invalid JSON: ${JSON.stringify(start)}${ctx.suffix}`,
      {
        cause,
      },
    );
  }
  const failure = completionFailure(json);
  if (failure) {
    const status = errorBodyStatus(failure) ?? 502;
    const detail = errorBodyMessage(failure);
    const message = `upstream returned an error${detail ? `: ${redactSecrets(detail, ctx.secrets).slice(0, 500)}` : ""}`;
    throw new UpstreamError("http", `${message} (status ${status})${ctx.suffix}`, {
      status,
      body: redactJson(json, ctx.secrets),
    });
  }
  const parsed = chatCompletionSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
    throw new UpstreamError("protocol", `upstream returned an invalid completion (${where})${ctx.suffix}`, {
      cause: parsed.error,
    });
  }
  if (parsed.data.choices.length === 0) {
    throw new UpstreamError("protocol", `upstream returned a completion without choices${ctx.suffix}`, {
      body: redactJson(json, ctx.secrets),
    });
  }
  return parsed.data;
}

/** The error for a streaming request answered with something other than an event stream. */
export function notEventStreamError(text: string, contentType: string, ctx: ErrorContext): UpstreamError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (isRecord(json) && json.error !== undefined) {
    // A JSON error body delivered with status 200: report it as the HTTP error it is.
    return httpError(errorBodyStatus(json) ?? 502, text, ctx);
  }
  return new UpstreamError(
    "protocol",
    `upstream answered a streaming request with content-type ${JSON.stringify(contentType || "(none)")} instead of text/event-stream${ctx.suffix}`,
  );
}

/**
 * The part of a 200 completion body that reports a failure, shaped `{error: ...}`: the body when it has
 * an `error` and no choices, or an `error` and no choice that finished (finish_reason null or absent);
 * else, for a choice that finished with "error", that choice when it carries the error, the body when
 * it does, or a generic error.
 */
function completionFailure(json: unknown): Record<string, unknown> | undefined {
  if (!isRecord(json)) return undefined;
  if (!Array.isArray(json.choices)) return json.error !== undefined ? json : undefined;
  const hasError = json.error !== undefined && json.error !== null;
  if (hasError && !json.choices.some((c) => isRecord(c) && c.finish_reason)) return json;
  const failed: unknown = json.choices.find((c) => isRecord(c) && c.finish_reason === "error");
  if (failed === undefined) return undefined;
  if (isRecord(failed) && failed.error !== undefined) return failed;
  return hasError ? json : { error: { message: "the completion finished with an error" } };
}
