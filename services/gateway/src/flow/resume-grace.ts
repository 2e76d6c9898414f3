import { FusionError } from "@fusion/wire";

/**
 * How long the fusion keeps running after its client disconnects, for a resume: the request's
 * `"fusion": {"resume_grace_ms": N}` (a whole number of ms, cut to `maxMs`), else `defaultMs`. 0 cancels
 * the fusion as soon as its client leaves. Anything but a non-negative integer is a 400.
 */
export function resumeGraceMs(fusionOptions: unknown, limits: { defaultMs: number; maxMs: number }): number {
  const asked =
    typeof fusionOptions === "object" && fusionOptions !== null && "resume_grace_ms" in fusionOptions
      ? fusionOptions.resume_grace_ms
      : undefined;
  if (asked === undefined || asked === null) return Math.min(limits.defaultMs, limits.maxMs);
  if (typeof asked !== "number" || !Number.isSafeInteger(asked) || asked < 0) {
    throw new FusionError(
      "bad_request",
      "invalid request: fusion.resume_grace_ms: must be a whole number of milliseconds, 0 or more",
    );
  }
  return Math.min(asked, limits.maxMs);
}
