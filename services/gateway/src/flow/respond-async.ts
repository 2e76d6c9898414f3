import { FusionError } from "@fusion/wire";

/**
 * The preferences an RFC 7240 `Prefer` header names (its values joined by commas when sent more than
 * once), lower-cased, without their values and parameters: `respond-async, wait=10; x="a,b"` names
 * `respond-async` and `wait`. Commas and semicolons inside quoted strings do not split.
 */
export function preferences(header: string | undefined): Set<string> {
  const names = new Set<string>();
  if (!header) return names;
  let current = "";
  let quoted = false;
  let escaped = false;
  const flush = () => {
    const name = current.split(/[;=]/, 1)[0]?.trim().toLowerCase();
    if (name) names.add(name);
    current = "";
  };
  for (const ch of header) {
    if (escaped) escaped = false;
    else if (quoted && ch === "\\") escaped = true;
    else if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) {
      flush();
      continue;
    }
    current += ch;
  }
  flush();
  return names;
}

/**
 * Whether a fusion request asks to be answered at once with 202 (`Prefer: respond-async`, RFC 7240) or
 * by its own field `"fusion": {"async": true}`; either is enough. A field that is not a boolean is a 400.
 */
export function asksAsync(preferHeader: string | undefined, fusionOptions: unknown): boolean {
  const asked =
    typeof fusionOptions === "object" && fusionOptions !== null && "async" in fusionOptions
      ? fusionOptions.async
      : undefined;
  if (asked !== undefined && asked !== null && typeof asked !== "boolean")
    throw new FusionError("bad_request", "invalid request: fusion.async: must be true or false");
  return asked === true || preferences(preferHeader).has("respond-async");
}

/** What a 202 answers about the fusion it accepted. */
export interface AsyncAcceptance {
  fusionId: string;
  /** When it was accepted (epoch ms). */
  created: number;
  /** The model that writes its answer (as `GET /fusions/{id}` names it). */
  model: string;
  /** Where it stands: `queued` when just accepted; a replay tells its state now. */
  status: string;
}

/**
 * The `202 Accepted` of an async fusion: its id and state, `Location` of its status endpoint under the
 * base the request came in on (`/v1` or `/api/v1`), and `Preference-Applied: respond-async`.
 */
export function asyncAccepted(
  requestPath: string,
  fusion: AsyncAcceptance,
  headers: Record<string, string> = {},
): Response {
  const base = requestPath.replace(/\/chat\/completions\/?$/, "");
  const body = {
    id: fusion.fusionId,
    object: "fusion",
    status: fusion.status,
    created: Math.floor(fusion.created / 1000),
    model: fusion.model,
  };
  return Response.json(body, {
    status: 202,
    headers: {
      location: `${base}/fusions/${fusion.fusionId}`,
      "preference-applied": "respond-async",
      "x-fusion-id": fusion.fusionId,
      ...headers,
    },
  });
}
