import type { AssistantTurn, ChatCompletion, ChatCompletionChunk, Usage } from "@fusion/wire";
import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { tracer, tracingEnabled } from "../trace.ts";

import type { CallOptions } from "./call-options.ts";
import { UpstreamError } from "./errors.ts";

/**
 * One span per upstream chat call (`chat <model>`, kind client, OpenTelemetry's GenAI attribute
 * names): the model asked for and the one that answered, tokens in and out, finish reasons, the
 * attempts it took (each retry is an event with its cause), and for a failure the error kind and
 * HTTP status. Retries stay inside the one span. With tracing off, the call runs untouched.
 */

function startCallSpan(body: Record<string, unknown>, stream: boolean): Span {
  const model = typeof body.model === "string" && body.model ? body.model : undefined;
  const attributes: Attributes = {
    "gen_ai.operation.name": "chat",
    "fusion.upstream.stream": stream,
  };
  if (model) attributes["gen_ai.request.model"] = model;
  return tracer().startSpan(model ? `chat ${model}` : "chat", { kind: SpanKind.CLIENT, attributes });
}

/** Counts attempts on the span and records each retry, then calls the caller's own onRetry. */
function withRetryEvents(span: Span, options: CallOptions, attempts: { n: number }): CallOptions {
  return {
    ...options,
    onRetry: (info) => {
      attempts.n = info.attempt;
      span.addEvent("retry", {
        "fusion.upstream.attempt": info.attempt,
        "fusion.upstream.delay_ms": info.delayMs,
        "error.type": info.error.kind,
        ...(info.error.status !== undefined ? { "http.response.status_code": info.error.status } : {}),
      });
      options.onRetry?.(info);
    },
  };
}

function recordUsage(span: Span, usage: Usage | null | undefined): void {
  if (!usage) return;
  span.setAttributes({
    "gen_ai.usage.input_tokens": usage.prompt_tokens,
    "gen_ai.usage.output_tokens": usage.completion_tokens,
  });
}

function recordFailure(span: Span, err: unknown): void {
  if (err instanceof UpstreamError) {
    span.setAttribute("error.type", err.kind);
    if (err.status !== undefined) span.setAttribute("http.response.status_code", err.status);
    // A call the fusion's cancellation aborted is not an upstream failure.
    if (err.kind === "aborted") {
      span.setAttribute("fusion.cancelled", true);
      return;
    }
  }
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message.slice(0, 500) });
}

type Completed = { completion: ChatCompletion; turn: AssistantTurn };

/** `complete` in a span. */
export function traceComplete(
  body: Record<string, unknown>,
  options: CallOptions,
  call: (options: CallOptions) => Promise<Completed>,
): Promise<Completed> {
  if (!tracingEnabled()) return call(options);
  return tracedComplete(body, options, call);
}

async function tracedComplete(
  body: Record<string, unknown>,
  options: CallOptions,
  call: (options: CallOptions) => Promise<Completed>,
): Promise<Completed> {
  const span = startCallSpan(body, false);
  const attempts = { n: 1 };
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () =>
      call(withRetryEvents(span, options, attempts)),
    );
    const { completion, turn } = result;
    if (completion.model) span.setAttribute("gen_ai.response.model", completion.model);
    const reasons = completion.choices.map((c) => c.finish_reason).filter((r): r is string => !!r);
    if (reasons.length) span.setAttribute("gen_ai.response.finish_reasons", reasons);
    recordUsage(span, completion.usage ?? turn.usage);
    return result;
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.setAttribute("fusion.upstream.attempts", attempts.n);
    span.end();
  }
}

/**
 * `stream` in a span that lasts from the first read to the end of the stream (or until the consumer
 * stops reading); usage and the answering model come from the chunks.
 */
export function traceStream(
  body: Record<string, unknown>,
  options: CallOptions,
  call: (options: CallOptions) => AsyncGenerator<ChatCompletionChunk, void, undefined>,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  if (!tracingEnabled()) return call(options);
  return tracedChunks(body, options, call);
}

async function* tracedChunks(
  body: Record<string, unknown>,
  options: CallOptions,
  call: (options: CallOptions) => AsyncGenerator<ChatCompletionChunk, void, undefined>,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const span = startCallSpan(body, true);
  const ctx = trace.setSpan(context.active(), span);
  const attempts = { n: 1 };
  const reasons = new Set<string>();
  let model: string | undefined;
  const inner = context.with(ctx, () => call(withRetryEvents(span, options, attempts)));
  try {
    for (;;) {
      // Each step of the inner generator runs with this span active, so what it does is its child.
      const step = await context.with(ctx, () => inner.next());
      if (step.done) break;
      const chunk = step.value;
      if (chunk.model) model = chunk.model;
      for (const choice of chunk.choices) if (choice.finish_reason) reasons.add(choice.finish_reason);
      recordUsage(span, chunk.usage);
      yield chunk;
    }
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    // The consumer stopped early (break, or an error it threw): close the inner stream too.
    await inner.return(undefined).catch(() => {});
    if (model) span.setAttribute("gen_ai.response.model", model);
    if (reasons.size) span.setAttribute("gen_ai.response.finish_reasons", [...reasons]);
    span.setAttribute("fusion.upstream.attempts", attempts.n);
    span.end();
  }
}
