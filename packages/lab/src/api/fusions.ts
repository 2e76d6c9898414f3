import { apiHeaders, errorOf } from "./http.ts";

/** One fusion of `GET /api/v1/fusions`. */
export interface FusionSummary {
  id: string;
  created: number;
  status: string;
  model: string;
  models: string[];
  judge?: string;
  prompt: string;
  cost: number | null;
}

const JSON_BODY = { "content-type": "application/json" };

/** Starts a streaming chat completion (a fusion, or the compared single model). */
export function postCompletion(body: unknown, apiKey: string, signal: AbortSignal): Promise<Response> {
  return fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: apiHeaders(apiKey, { ...JSON_BODY, accept: "text/event-stream" }),
    body: JSON.stringify(body),
    signal,
  });
}

/**
 * A fusion's stream with progress "full": after `afterId` (a resume), or from its start (a replay:
 * with no Last-Event-ID the stream replays everything).
 */
export function openFusionStream(
  fusionId: string,
  afterId: string | null,
  apiKey: string,
  signal: AbortSignal,
): Promise<Response> {
  const headers = apiHeaders(apiKey, {
    accept: "text/event-stream",
    ...(afterId ? { "last-event-id": afterId } : {}),
  });
  return fetch(`/api/v1/fusions/${encodeURIComponent(fusionId)}/stream?progress=full`, { headers, signal });
}

/** Cancels a running fusion; resolves with the error text when the gateway refused. */
export async function cancelFusion(fusionId: string, apiKey: string): Promise<string | undefined> {
  const response = await fetch(`/api/v1/fusions/${encodeURIComponent(fusionId)}/cancel`, {
    method: "POST",
    headers: apiHeaders(apiKey, JSON_BODY),
    body: "{}",
  });
  return response.ok ? undefined : errorOf(response);
}

/** This key's recent fusions, newest first. */
export async function listFusions(apiKey: string, limit = 20): Promise<FusionSummary[]> {
  const response = await fetch(`/api/v1/fusions?limit=${limit}`, { headers: apiHeaders(apiKey) });
  if (!response.ok) throw new Error(await errorOf(response));
  const body = (await response.json()) as { data?: unknown };
  return (Array.isArray(body.data) ? body.data : []).flatMap((f: unknown) => {
    if (typeof f !== "object" || f === null) return [];
    const o = f as Record<string, unknown>;
    if (typeof o.id !== "string") return [];
    return [
      {
        id: o.id,
        created: typeof o.created === "number" ? o.created : 0,
        status: typeof o.status === "string" ? o.status : "unknown",
        model: typeof o.model === "string" ? o.model : "",
        models: Array.isArray(o.models) ? o.models.filter((m) => typeof m === "string") : [],
        ...(typeof o.judge === "string" && o.judge ? { judge: o.judge } : {}),
        prompt: typeof o.prompt === "string" ? o.prompt : "",
        cost: typeof o.cost === "number" ? o.cost : null,
      },
    ];
  });
}
