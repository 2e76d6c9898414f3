import type { SearchBackend, SearchErrorReason } from "./search-backend.ts";
import { readStatus } from "./search-failure.ts";

/** How the runner reads an error status of `backend`: its own reading, else the common one. */
export function readStatusOf(backend: SearchBackend, status: number, body: unknown): SearchErrorReason {
  return backend.readStatus?.(status, body)?.reason ?? readStatus(status);
}
