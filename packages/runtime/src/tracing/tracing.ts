import { markFailed, tracer } from "@fusion/llm-client";
import {
  type Attributes,
  context,
  DiagLogLevel,
  diag,
  propagation,
  type Span,
  type SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { Sampler } from "@opentelemetry/sdk-trace";
import type { Telemetry } from "bullmq";
import { z } from "zod";
import { ConfigError, envBoolean, envInt, envUrl, parseEnv } from "../env/common-env.ts";
import { createLogger, type Logger } from "../logger.ts";

/**
 * OpenTelemetry traces, off unless an OTLP endpoint is configured. When off, nothing of the SDK is
 * loaded and every helper here calls straight through (the `@opentelemetry/api` calls are no-ops),
 * so tracing costs nothing by default. When on, one tracer provider per process exports spans over
 * OTLP/HTTP (JSON) in batches, and BullMQ's own telemetry (`bullmq-otel`) carries the trace context
 * through the jobs of a fusion's flow.
 */

/** The standard OpenTelemetry variables this process understands. */
export const tracingEnvSchema = z.object({
  /** Base URL of an OTLP/HTTP receiver; traces go to `<url>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: envUrl(),
  /** The full URL for traces; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: envUrl(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.string().optional(),
  /** Defaults to the service's own name (gateway, panel-worker, judge-worker). */
  OTEL_SERVICE_NAME: z.string().optional(),
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

/** Where spans are sent, or undefined when tracing is off. */
export function tracesUrl(env: TracingEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED) return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`;
  return undefined;
}

export interface Tracing {
  enabled: boolean;
  /** The traces URL when enabled. */
  url?: string;
  /** Exports what is buffered and stops (at most `timeoutMs`); a no-op when off. */
  shutdown(timeoutMs?: number): Promise<void>;
}

interface Active {
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  telemetry: Telemetry;
}

let active: Active | undefined;

/**
 * BullMQ's housekeeping loops (the stalled-jobs check of every worker, every few seconds): as root
 * spans they would be most of what an idle service exports, so they are not recorded.
 */
const HOUSEKEEPING = /^(moveStalledJobsToWait|startStalledCheckTimer)\b/;

const off: Tracing = { enabled: false, shutdown: async () => {} };

/**
 * Starts tracing when the environment asks for it, and returns what was set up. Throws ConfigError
 * on a malformed variable. Registers the global tracer provider, an AsyncLocalStorage context
 * manager and the W3C trace-context propagator, so `@opentelemetry/api` calls anywhere in the
 * process (and bullmq's telemetry) use them.
 */
export async function setupTracing(
  service: string,
  source: NodeJS.ProcessEnv = process.env,
  logger?: Logger,
): Promise<Tracing> {
  if (active) throw new Error("tracing is already started in this process");
  const env = parseEnv(tracingEnvSchema, source);
  const url = tracesUrl(env);
  if (!url) return off;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol && protocol !== "http/json") {
    logger?.warn({ protocol }, "OTLP protocol not supported: traces are sent as OTLP/HTTP JSON");
  }

  const [sdk, core, hooks, exporterPkg, resources, bullmqOtel] = await Promise.all([
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/core"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("bullmq-otel"),
  ]);

  if (logger) {
    // The SDK's own problems (an export that failed, spans dropped) as warnings: tracing never fails a request.
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
  const quiet: Sampler = {
    shouldSample: (ctx, traceId, name, kind, attributes, links) =>
      !trace.getSpanContext(ctx) && HOUSEKEEPING.test(name)
        ? { decision: sdk.SamplingDecision.NOT_RECORD }
        : sampler.shouldSample(ctx, traceId, name, kind, attributes, links),
    toString: () => `QuietHousekeeping{${sampler.toString()}}`,
  };
  const resource = resources
    .defaultResource()
    .merge(resources.detectResources({ detectors: [resources.envDetector, resources.hostDetector] }))
    .merge(resources.resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || service }));
  const exporter = new exporterPkg.OTLPTraceExporter({ url });
  const provider = new sdk.TracerProvider({
    resource,
    sampler: quiet,
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
        exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT,
        maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: Math.min(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, env.OTEL_BSP_MAX_QUEUE_SIZE),
      }),
    ],
  });
  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  trace.setGlobalTracerProvider(provider);
  active = { provider, telemetry: new bullmqOtel.BullMQOtel({ tracerName: "bullmq" }) };
  logger?.info({ url, sampler: env.OTEL_TRACES_SAMPLER }, "tracing on: exporting spans over OTLP/HTTP");

  return {
    enabled: true,
    url,
    shutdown: (timeoutMs) => shutdownTracing(timeoutMs),
  };
}

/**
 * `setupTracing` for a service's main, called first thing: a malformed variable ends the process
 * with a message naming it, as every other setting does.
 */
export async function startTracing(
  service: string,
  source: NodeJS.ProcessEnv = process.env,
): Promise<Tracing> {
  const logger = createLogger(service, source.LOG_LEVEL ?? "info");
  try {
    return await setupTracing(service, source, logger);
  } catch (err) {
    logger.fatal(err instanceof ConfigError ? err.message : String(err));
    process.exit(1);
  }
}

/**
 * Exports the spans still buffered and unregisters the provider; waits at most `timeoutMs`, so an
 * unreachable collector cannot hold up a shutdown. A no-op when tracing is off.
 */
export async function shutdownTracing(timeoutMs = 5000): Promise<void> {
  const current = active;
  if (!current) return;
  active = undefined;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    current.provider.shutdown().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  trace.disable();
  propagation.disable();
  context.disable();
  diag.disable();
}

/**
 * BullMQ's `telemetry` option, to spread into the options of a Queue, FlowProducer or Worker:
 * `{ telemetry }` when tracing is on, `{}` when off (BullMQ then does no tracing work at all).
 */
export function bullmqTelemetry(): { telemetry?: Telemetry } {
  return active ? { telemetry: active.telemetry } : {};
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

/**
 * Runs `fn` in a new span (a child of the active one), ending it when `fn` settles; a throw is
 * recorded and marks the span as an error. With tracing off, `fn` runs as is.
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!active) return fn(undefined);
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Adds attributes to the active span (the gateway's request span, a job's span); nothing when off. */
export function annotateActiveSpan(attributes: Attributes): void {
  if (!active) return;
  trace.getActiveSpan()?.setAttributes(attributes);
}
