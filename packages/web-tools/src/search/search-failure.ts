import { ToolError } from "../tool-error.ts";
import type { SearchErrorReason, SearchProvider } from "./search-backend.ts";

/** A failed search: a ToolError the model reads, with the reason and the status for metrics and logs. */
export class SearchFailure extends ToolError {
  readonly reason: SearchErrorReason;
  readonly status: number | undefined;
  readonly provider: SearchProvider;

  constructor(
    provider: SearchProvider,
    reason: SearchErrorReason,
    message: string,
    options?: ErrorOptions & { status?: number },
  ) {
    super(message, options);
    this.name = "SearchFailure";
    this.provider = provider;
    this.reason = reason;
    this.status = options?.status;
  }
}

/** The message the model reads for an HTTP error status. */
export function statusMessage(reason: SearchErrorReason, status: number, detail?: string): string {
  switch (reason) {
    case "auth":
      return `web search provider rejected the server's key (HTTP ${status})`;
    case "payment":
      return `web search provider is out of credits/quota (HTTP ${status})`;
    case "rate_limited":
      return `web search provider rate limited the server, try fewer searches (HTTP ${status})`;
    default:
      return `web search provider returned HTTP ${status}${detail ? `: ${detail}` : ""}`;
  }
}

/**
 * The common reading of an error status: 401/403 the key, 402 the bill, 429 the rate, anything else
 * an HTTP error. A provider may read some statuses its own way first.
 */
export function readStatus(status: number): SearchErrorReason {
  if (status === 401 || status === 403) return "auth";
  if (status === 402) return "payment";
  if (status === 429) return "rate_limited";
  return "http_error";
}

/** `text` with every occurrence of `secret` replaced. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join("[redacted]") : text;
}
