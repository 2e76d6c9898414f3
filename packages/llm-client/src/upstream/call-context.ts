import type { CallOptions } from "./call-options.ts";
import type { ErrorContext } from "./errors.ts";

/** What a client knows that an error of one of its calls needs: its key, headers and time limits. */
export interface ClientSecretsAndLimits {
  apiKey: string | undefined;
  /** The client's own headers, names in lower case. */
  headers: Record<string, string>;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/**
 * The context an error of one call is built with: the model it names, the call's signal, its time
 * limits, and every credential the call sends (the key, any `authorization` header, with and without
 * its `Bearer` prefix), so that none of them can reach an error message.
 */
export function callErrorContext(
  client: ClientSecretsAndLimits,
  model: string | undefined,
  options: CallOptions,
): ErrorContext {
  const secrets: string[] = [];
  if (client.apiKey) secrets.push(client.apiKey);
  for (const [name, value] of Object.entries({ ...client.headers, ...(options.headers ?? {}) })) {
    if (name.toLowerCase() === "authorization") secrets.push(value, value.replace(/^Bearer\s+/i, ""));
  }
  return {
    suffix: model ? ` (model ${model})` : "",
    signal: options.signal,
    secrets,
    headersTimeoutMs: client.headersTimeoutMs,
    bodyTimeoutMs: client.bodyTimeoutMs,
  };
}

/** The `model` a request body names, if any. */
export function modelOf(body: Record<string, unknown>): string | undefined {
  return typeof body.model === "string" && body.model !== "" ? body.model : undefined;
}

/** The same headers with their names in lower case. */
export function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
