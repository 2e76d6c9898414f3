import { z } from "zod";
import type { StoredEvent } from "./stream-events.ts";

/**
 * A fusion's webhook: one message per fusion, sent when it ends, signed as Standard Webhooks say
 * (`webhook-id` is the fusion id, so a receiver can drop a repeated delivery).
 */
export const webhookEventTypes = ["fusion.completed", "fusion.failed", "fusion.cancelled"] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** How a fusion ended, as its meta records it (`completed`, `failed`, `cancelled`). */
export type WebhookOutcome = "completed" | "failed" | "cancelled";

/** The body of a webhook. */
export interface WebhookPayload {
  type: WebhookEventType;
  /** When the fusion ended (its terminal entry), ISO 8601. */
  timestamp: string;
  data: {
    id: string;
    status: WebhookOutcome;
    /** The model the request named (the completion's `model`). */
    model: string;
    /** The final `chat.completion` of a completed fusion. */
    completion?: unknown;
    /** Why a fusion failed or was cancelled: the HTTP status in `code`, as in the error shape. */
    error?: { code: number; message: string };
  };
}

/** The longest callback URL a request may name. */
export const MAX_WEBHOOK_URL_CHARS = 2048;

/**
 * The body of a fusion's webhook, from its terminal entry (`final` or `error`). Without the entry
 * (its stream expired before the webhook was handed over) it says how the fusion ended, from `outcome`.
 */
export function webhookPayload(
  fusion: { id: string; model: string; outcome: WebhookOutcome },
  terminal: StoredEvent | undefined,
): WebhookPayload {
  const endedMs = terminal ? Number(terminal.id.split("-")[0]) : Date.now();
  const base = { id: fusion.id, model: fusion.model };
  if (terminal?.type === "final") {
    const { completion } = JSON.parse(terminal.raw) as { completion?: unknown };
    return {
      type: "fusion.completed",
      timestamp: new Date(endedMs).toISOString(),
      data: { ...base, status: "completed", completion },
    };
  }
  const e =
    terminal?.type === "error"
      ? (JSON.parse(terminal.raw) as { status?: number; message?: string; cancelled?: boolean })
      : undefined;
  const status: WebhookOutcome = e ? (e.cancelled === true ? "cancelled" : "failed") : fusion.outcome;
  const error = e ? { code: e.status ?? 500, message: e.message ?? "the fusion failed" } : undefined;
  return {
    type: `fusion.${status}`,
    timestamp: new Date(endedMs).toISOString(),
    data: { ...base, status, ...(error ? { error } : {}) },
  };
}

/** The job of the `webhook` queue: one per fusion (its id is the job id), carrying the body to sign and send. */
export const webhookJobSchema = z.object({
  fusionId: z.string(),
  url: z.string().max(MAX_WEBHOOK_URL_CHARS),
  /** The body as sent, JSON: built once, so every attempt sends the same bytes. */
  payload: z.string(),
});
export type WebhookJobData = z.infer<typeof webhookJobSchema>;
