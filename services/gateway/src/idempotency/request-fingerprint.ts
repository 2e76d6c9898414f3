import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * What identifies a request under its Idempotency-Key: the SHA-256 (hex) of its JSON body in RFC 8785
 * canonical form (keys sorted, numbers and strings in one spelling, so the same request sent with
 * other spacing or key order is the same), together with whether it asked to be answered at once (the
 * `Prefer` header is not in the body). Whether it streams is in the body.
 */
export function requestFingerprint(body: unknown, respondAsync: boolean): string {
  const canonical = canonicalize({ body, respondAsync }) ?? "";
  return createHash("sha256").update(canonical).digest("hex");
}
