import { ProxyTracerProvider, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

/**
 * The OpenTelemetry helpers of the LLM client. The client only speaks `@opentelemetry/api`; a service
 * that wants traces registers an SDK tracer provider (see the runtime's `setupTracing`). Until one is
 * registered the API's tracer is a no-op, and the client skips span work altogether.
 */

/** The delegate of a proxy provider that has none registered: the API's no-op provider. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** Whether this process has a tracer provider registered (tracing is on). */
export function tracingEnabled(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() !== NOOP_PROVIDER : true;
}

/** The tracer of Fusion's own spans. */
export function tracer() {
  return trace.getTracer("fusion");
}

/** Records an error on a span: the exception event and an error status. */
export function markFailed(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message.slice(0, 500) });
}
