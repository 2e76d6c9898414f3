import { trace } from "@opentelemetry/api";
import type { Sampler } from "@opentelemetry/sdk-trace";
import type { TracingEnv } from "./tracing-env.ts";

type SdkTrace = typeof import("@opentelemetry/sdk-trace");

/**
 * BullMQ's housekeeping loops (the stalled-jobs check of every worker, every few seconds): as root
 * spans they would be most of what an idle service exports, so they are not recorded.
 */
const HOUSEKEEPING = /^(moveStalledJobsToWait|startStalledCheckTimer)\b/;

/** The sampler `OTEL_TRACES_SAMPLER` (and `_ARG`) names, wrapped so that BullMQ's housekeeping is not recorded. */
export function quietSampler(sdk: SdkTrace, env: TracingEnv): Sampler {
  const ratio = new sdk.TraceIdRatioBasedSampler(env.OTEL_TRACES_SAMPLER_ARG);
  const samplers = {
    always_on: new sdk.AlwaysOnSampler(),
    always_off: new sdk.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: new sdk.ParentBasedSampler({ root: ratio }),
  };
  const sampler = samplers[env.OTEL_TRACES_SAMPLER];
  return {
    shouldSample: (ctx, traceId, name, kind, attributes, links) =>
      !trace.getSpanContext(ctx) && HOUSEKEEPING.test(name)
        ? { decision: sdk.SamplingDecision.NOT_RECORD }
        : sampler.shouldSample(ctx, traceId, name, kind, attributes, links),
    toString: () => `QuietHousekeeping{${sampler.toString()}}`,
  };
}
