import { DiagLogLevel, diag } from "@opentelemetry/api";
import type { Logger } from "../logger.ts";

/**
 * Logs the SDK's own problems (an export that failed, spans dropped, a malformed `OTEL_*` value the
 * SDK read and ignored) as warnings: tracing never fails a request.
 */
export function reportSdkProblems(logger: Logger): void {
  const log = logger.child({ component: "otel" });
  const warn = (detail: string, args: unknown[]) =>
    log.warn(
      { detail: detail.slice(0, 2000), ...(args.length ? { args } : {}) },
      "tracing: the SDK reported a problem",
    );
  diag.setLogger(
    {
      error: (msg, ...args) => warn(msg, args),
      warn: (msg, ...args) => warn(msg, args),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
}

/** Stops logging the SDK's problems (at shutdown). */
export function stopReportingSdkProblems(): void {
  diag.disable();
}
