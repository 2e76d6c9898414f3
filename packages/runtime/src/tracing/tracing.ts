import { markFailed, tracer } from "@fusion/llm-client";
import { type Attributes, context, propagation, type Span, type SpanKind, trace } from "@opentelemetry/api";
import type { Telemetry } from "bullmq";
import { ConfigError, parseEnv } from "../env/common-env.ts";
import { createLogger, type Logger } from "../logger.ts";
import { reportSdkProblems, stopReportingSdkProblems } from "./otel-diagnostics.ts";
import { quietSampler } from "./quiet-sampler.ts";
import { tracesUrl, tracingEnvSchema } from "./tracing-env.ts";

/**
 * OpenTelemetry traces, off unless an OTLP endpoint is configured. When off, nothing of the SDK is
 * loaded and every helper here calls straight through (the `@opentelemetry/api` calls are no-ops),
 * so tracing costs nothing by default. When on, one tracer provider per process exports spans over
 * OTLP/HTTP (JSON) in batches, and BullMQ's own telemetry (`bullmq-otel`) carries the trace context
 * through the jobs of a fusion's flow. Configured by the standard `OTEL_*` variables of the process
 * environment, most of them read by the SDK itself (see `tracing-env.ts`).
 */

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

const off: Tracing = { enabled: false, shutdown: async () => {} };

/**
 * Starts tracing when the process environment asks for it, and returns what was set up. Throws
 * ConfigError on a malformed variable. Registers the global tracer provider, an AsyncLocalStorage
 * context manager and the W3C trace-context propagator, so `@opentelemetry/api` calls anywhere in the
 * process (and bullmq's telemetry) use them.
 */
export async function setupTracing(service: string, logger?: Logger): Promise<Tracing> {
  if (active) throw new Error("tracing is already started in this process");
  const env = parseEnv(tracingEnvSchema);
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

  if (logger) reportSdkProblems(logger);

  // The service's own name unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) says otherwise.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": service }))
    .merge(
      resources.detectResources({
        detectors: [
          resources.hostDetector,
          resources.resourceAttributesEnvDetector,
          resources.serviceNameEnvDetector,
        ],
      }),
    );
  // The exporter reads its endpoint, headers, timeout and compression from the environment.
  const exporter = new exporterPkg.OTLPTraceExporter();
  const provider = new sdk.TracerProvider({
    resource,
    sampler: quietSampler(sdk, env),
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
export async function startTracing(service: string): Promise<Tracing> {
  const logger = createLogger(service, process.env.LOG_LEVEL ?? "info");
  try {
    return await setupTracing(service, logger);
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
  stopReportingSdkProblems();
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
