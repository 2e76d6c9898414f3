import type { BatchInputError } from "./batch-input.ts";

export const batchStatuses = [
  "validating",
  "failed",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "cancelling",
  "cancelled",
] as const;
export type BatchStatus = (typeof batchStatuses)[number];

const stamps = [
  "in_progress_at",
  "finalizing_at",
  "completed_at",
  "failed_at",
  "expired_at",
  "cancelling_at",
  "cancelled_at",
] as const;

/** OpenAI's batch object. */
export interface BatchObject {
  id: string;
  object: "batch";
  endpoint: string;
  errors: { object: "list"; data: BatchInputError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  expires_at: number;
  in_progress_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

const num = (v: string | undefined) => (v === undefined || v === "" ? null : Number(v));

function json<T>(v: string | undefined, fallback: T): T {
  try {
    return v ? (JSON.parse(v) as T) : fallback;
  } catch {
    return fallback;
  }
}

/** The batch object of a stored batch record (`HGETALL` of its key). */
export function batchObject(h: Record<string, string>): BatchObject {
  const errors = json<BatchInputError[] | null>(h.errors, null);
  const status = (batchStatuses as readonly string[]).includes(h.status ?? "")
    ? (h.status as BatchStatus)
    : "failed";
  const timestamps = Object.fromEntries(stamps.map((s) => [s, num(h[s])])) as Record<
    (typeof stamps)[number],
    number | null
  >;
  return {
    id: h.id ?? "",
    object: "batch",
    endpoint: h.endpoint ?? "",
    errors: errors && errors.length > 0 ? { object: "list", data: errors } : null,
    input_file_id: h.input_file_id ?? "",
    completion_window: h.completion_window ?? "24h",
    status,
    output_file_id: h.output_file_id || null,
    error_file_id: h.error_file_id || null,
    created_at: Number(h.created_at),
    expires_at: Number(h.expires_at),
    ...timestamps,
    request_counts: {
      total: Number(h.total ?? 0),
      completed: Number(h.completed ?? 0),
      failed: Number(h.failed ?? 0),
    },
    metadata: json<Record<string, string> | null>(h.metadata, null),
  };
}
