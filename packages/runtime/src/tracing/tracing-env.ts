import { z } from "zod";
import { envBoolean, envInt, envUrl } from "../env/common-env.ts";

/**
 * The `OTEL_*` variables we read ourselves. The OpenTelemetry packages read the rest from the process
 * environment on their own: the OTLP exporter its endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is), headers, timeout, compression and certificates; the
 * resource detectors `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`. What is left is what none of
 * the packages we install reads: whether tracing is on at all (an endpoint is set and
 * `OTEL_SDK_DISABLED` is not), the sampler and the batch span processor (`@opentelemetry/sdk-trace` 3
 * reads neither `OTEL_TRACES_SAMPLER*` nor `OTEL_BSP_*`: they are passed to it as options). A
 * malformed value stops start-up with the variable named.
 */
export const tracingEnvSchema = z.object({
  /** Base URL of an OTLP/HTTP receiver; traces go to `<url>/v1/traces`. Only checked here: the exporter reads it. */
  OTEL_EXPORTER_OTLP_ENDPOINT: envUrl(),
  /** The full URL for traces; wins over OTEL_EXPORTER_OTLP_ENDPOINT. Only checked here: the exporter reads it. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: envUrl(),
  /** Only OTLP/HTTP JSON is sent; another protocol is logged and ignored. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.string().optional(),
  OTEL_SDK_DISABLED: envBoolean(false),
  OTEL_TRACES_SAMPLER: z
    .enum([
      "always_on",
      "always_off",
      "traceidratio",
      "parentbased_always_on",
      "parentbased_always_off",
      "parentbased_traceidratio",
    ])
    .default("parentbased_always_on"),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return 1;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 1) {
        ctx.addIssue({ code: "custom", message: `must be a number from 0 to 1, got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  OTEL_BSP_SCHEDULE_DELAY: envInt(5000, 0),
  OTEL_BSP_EXPORT_TIMEOUT: envInt(30_000, 1),
  OTEL_BSP_MAX_QUEUE_SIZE: envInt(2048, 1),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: envInt(512, 1),
});
export type TracingEnv = z.infer<typeof tracingEnvSchema>;

/**
 * Where spans are sent, or undefined when tracing is off: the rule the OTLP exporter follows when it
 * reads the same variables (the traces endpoint as is, else `/v1/traces` under the base endpoint).
 */
export function tracesUrl(env: TracingEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED) return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`;
  return undefined;
}
