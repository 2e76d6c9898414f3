import { errorBody } from "@fusion/wire";

/** One line of a batch's output or error file, in OpenAI's format. */
export interface ResultLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/** Which file a line goes to: a 2xx response to the output file, anything else to the error file. */
export type ResultKind = "output" | "error";

/** A line that got an HTTP answer (a completion, or an error in our shape). */
export function responseLine(
  requestId: string,
  customId: string,
  statusCode: number,
  body: unknown,
): { kind: ResultKind; line: ResultLine } {
  const kind = statusCode >= 200 && statusCode < 300 ? "output" : "error";
  return {
    kind,
    line: {
      id: requestId,
      custom_id: customId,
      response: { status_code: statusCode, request_id: requestId, body },
      error: null,
    },
  };
}

/** A line that failed with an HTTP status and a message: its response body is our error shape. */
export function failedLine(
  requestId: string,
  customId: string,
  status: number,
  message: string,
): { kind: ResultKind; line: ResultLine } {
  return responseLine(requestId, customId, status, errorBody(status, message));
}

/** Why a line never ran, with OpenAI's codes. */
export const unrunReasons = {
  batch_cancelled: "This request was not executed because the batch was cancelled.",
  batch_expired: "This request could not be executed before the completion window expired.",
  batch_failed: "This request could not be executed: its job failed.",
} as const;
export type UnrunReason = keyof typeof unrunReasons;

/** A line that never ran (cancelled, expired): no response, OpenAI's error code and message. */
export function unrunLine(requestId: string, customId: string, reason: UnrunReason): ResultLine {
  return {
    id: requestId,
    custom_id: customId,
    response: null,
    error: { code: reason, message: unrunReasons[reason] },
  };
}

/** How an answered line is stored (`o` or `e`, then the JSON line): the file it goes to and its text. */
export function storedAnswer(kind: ResultKind, line: ResultLine): string {
  return `${kind === "output" ? "o" : "e"}${JSON.stringify(line)}`;
}

export function parseStoredAnswer(stored: string): { kind: ResultKind; text: string } {
  return { kind: stored.startsWith("o") ? "output" : "error", text: stored.slice(1) };
}
