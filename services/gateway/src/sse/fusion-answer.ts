import type { StoredEvent } from "@fusion/wire";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { contentfulStatus } from "../http/http-status.ts";

/** The HTTP answer a terminal event stands for: the completion, or the error in our shape. */
export function finalOrError(
  stored: StoredEvent,
): { status: ContentfulStatusCode; body: unknown } | undefined {
  if (stored.type === "final")
    return { status: 200, body: (JSON.parse(stored.raw) as { completion: unknown }).completion };
  if (stored.type === "error") {
    const e = JSON.parse(stored.raw) as { status: number; message: string };
    return { status: contentfulStatus(e.status), body: { error: { code: e.status, message: e.message } } };
  }
  return undefined;
}
