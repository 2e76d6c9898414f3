/** Requests to the gateway's public API, on the page's own origin. */

/** The headers of an API request: the bearer key when there is one, JSON when there is a body. */
export function apiHeaders(apiKey: string, extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey.trim();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

/** A readable message of an error response (our `{error: {code, message}}` shape, or the status). */
export async function errorOf(response: Response): Promise<string> {
  let message = "";
  try {
    const body: unknown = await response.json();
    if (typeof body === "object" && body !== null && "error" in body) {
      const error = (body as { error: unknown }).error;
      if (typeof error === "object" && error !== null && "message" in error) message = String(error.message);
      else if (typeof error === "string") message = error;
    }
  } catch {
    // not JSON: the status says it
  }
  return `${response.status}${response.statusText ? ` ${response.statusText}` : ""}${message ? `: ${message}` : ""}`;
}
