import { tracer, tracingEnabled } from "@fusion/llm-client";
import { type OtlpReceiver, startOtlpReceiver } from "@fusion/testing";
import { context, propagation, trace } from "@opentelemetry/api";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../env/common-env.ts";
import { bullmqTelemetry, setupTracing, shutdownTracing, withSpan } from "./tracing.ts";
import { tracesUrl, tracingEnvSchema } from "./tracing-env.ts";

const INVALID_TRACE_ID = "00000000000000000000000000000000";

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});
afterEach(async () => {
  await shutdownTracing(2000);
  vi.unstubAllEnvs();
});

/**
 * `setupTracing` with exactly these `OTEL_*` variables in the process environment, where the SDK reads
 * them too (any others the test process has are cleared first).
 */
function setupTracingWith(service: string, vars: Record<string, string>) {
  vi.unstubAllEnvs();
  for (const name of Object.keys(process.env)) if (name.startsWith("OTEL_")) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(vars)) vi.stubEnv(name, value);
  return setupTracing(service);
}

describe("tracing configuration", () => {
  it("is off without an endpoint: no provider is registered and spans record nothing", async () => {
    const tracing = await setupTracingWith("test-service", { LOG_LEVEL: "silent" });
    expect(tracing.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(bullmqTelemetry()).toEqual({});
    const span = tracer().startSpan("nothing");
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe(INVALID_TRACE_ID);
    span.end();
    // withSpan runs the function without a span.
    expect(await withSpan("x", {}, async (s) => s)).toBeUndefined();
    // No propagator either: nothing is injected into a carrier.
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    expect(carrier).toEqual({});
  });

  it("reads the standard variables: the traces endpoint wins, OTEL_SDK_DISABLED turns it off", () => {
    const env = (vars: Record<string, string>) => tracingEnvSchema.parse(vars);
    expect(tracesUrl(env({}))).toBeUndefined();
    expect(tracesUrl(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }))).toBe(
      "http://collector:4318/v1/traces",
    );
    expect(
      tracesUrl(
        env({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://other:9999/custom/traces",
        }),
      ),
    ).toBe("http://other:9999/custom/traces");
    expect(
      tracesUrl(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" })),
    ).toBeUndefined();
  });

  it("refuses malformed values with the variable's name", async () => {
    await expect(setupTracingWith("t", { OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" })).rejects.toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    await expect(
      setupTracingWith("t", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_ARG: "2" }),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      setupTracingWith("t", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "-1" }),
    ).rejects.toThrow(/OTEL_BSP_SCHEDULE_DELAY/);
    expect(tracingEnabled()).toBe(false);
  });
});

describe("tracing on", () => {
  it("exports spans over OTLP/HTTP JSON with the service name, and stops cleanly", async () => {
    const tracing = await setupTracingWith("unit-service", {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    expect(tracing).toMatchObject({ enabled: true, url: `${receiver.url}/v1/traces` });
    expect(tracingEnabled()).toBe(true);
    expect(bullmqTelemetry().telemetry).toBeDefined();

    let traceId = "";
    await withSpan("outer", { attributes: { "fusion.id": "f-1" } }, async (outer) => {
      traceId = outer?.spanContext().traceId ?? "";
      // The active span is the parent of spans started inside, and its context is injected as W3C traceparent.
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      expect(carrier.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      await expect(
        withSpan("inner", {}, async () => {
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
    });
    expect(traceId).not.toBe(INVALID_TRACE_ID);

    await expect
      .poll(
        () =>
          receiver.spans
            .filter((s) => s.traceId === traceId)
            .map((s) => s.name)
            .sort(),
        {
          timeout: 5000,
        },
      )
      .toEqual(["inner", "outer"]);
    const outer = receiver.spans.find((s) => s.traceId === traceId && s.name === "outer");
    const inner = receiver.spans.find((s) => s.traceId === traceId && s.name === "inner");
    expect(outer).toMatchObject({
      service: "unit-service",
      parentSpanId: "",
      attributes: { "fusion.id": "f-1" },
    });
    expect(inner).toMatchObject({ parentSpanId: outer?.spanId, statusCode: 2 });
    expect(receiver.requests.every((r) => r.path === "/v1/traces" && r.contentType.includes("json"))).toBe(
      true,
    );

    await shutdownTracing();
    expect(tracingEnabled()).toBe(false);
    expect(trace.getTracer("after").startSpan("x").isRecording()).toBe(false);
  });

  it("does not record BullMQ's housekeeping loops as traces of their own", async () => {
    await setupTracingWith("quiet", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(tracer().startSpan("moveStalledJobsToWait panel").isRecording()).toBe(false);
    expect(tracer().startSpan("startStalledCheckTimer turn").isRecording()).toBe(false);
    expect(tracer().startSpan("process panel").isRecording()).toBe(true);
    await withSpan("parent", {}, async () => {
      expect(tracer().startSpan("moveStalledJobsToWait panel").isRecording()).toBe(true);
    });
  });

  it("OTEL_SERVICE_NAME overrides the service's own name", async () => {
    await setupTracingWith("default-name", {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "renamed",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    let traceId = "";
    await withSpan("named", {}, async (span) => {
      traceId = span?.spanContext().traceId ?? "";
    });
    await expect
      .poll(() => receiver.spans.find((s) => s.traceId === traceId)?.service, { timeout: 5000 })
      .toBe("renamed");
  });
});
