import { UpstreamError } from "./index.ts";

/** A one-line reason for a failed inner call, safe to store and show: status first when there is one. */
export function describeFailure(err: unknown): string {
  if (err instanceof UpstreamError) {
    return err.status ? `[${err.status}] ${err.message}` : `[${err.kind}] ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
