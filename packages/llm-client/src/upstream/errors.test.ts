import { describe, expect, it } from "vitest";
import { httpError, isRetryableStatus, redactJson, toUpstreamError, UpstreamError } from "./errors.ts";
import { parseRetryAfter, retryDelayMs } from "./retry.ts";

const ctx = { suffix: " (model m)", secrets: ["sk-secret-123"], headersTimeoutMs: 1000, bodyTimeoutMs: 2000 };

function coded(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe("isRetryableStatus", () => {
  it("retries 408, 409, 425, 429 and 5xx only", () => {
    for (const s of [408, 409, 425, 429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [200, 400, 401, 402, 403, 404, 413, 422]) expect(isRetryableStatus(s)).toBe(false);
  });
});

describe("UpstreamError", () => {
  it("derives retryable from kind and status", () => {
    expect(new UpstreamError("http", "x", { status: 503 }).retryable).toBe(true);
    expect(new UpstreamError("http", "x", { status: 401 }).retryable).toBe(false);
    expect(new UpstreamError("timeout", "x").retryable).toBe(true);
    expect(new UpstreamError("network", "x").retryable).toBe(true);
    expect(new UpstreamError("protocol", "x").retryable).toBe(false);
    expect(new UpstreamError("aborted", "x").retryable).toBe(false);
    expect(new UpstreamError("network", "x", { retryable: false }).retryable).toBe(false);
    const e = new UpstreamError("http", "x", { status: 429 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("UpstreamError");
  });
});

describe("httpError", () => {
  it("parses {error:{message}} and redacts secrets", () => {
    const e = httpError(401, JSON.stringify({ error: { message: "bad key sk-secret-123" } }), ctx, 5);
    expect(e.message).toBe("upstream returned 401: bad key [redacted] (model m)");
    expect(e.body).toEqual({ error: { message: "bad key [redacted]" } });
    expect(e).toMatchObject({ kind: "http", status: 401, retryable: false, retryAfterMs: 5 });
  });

  it("copes with an empty body", () => {
    const e = httpError(500, "", ctx);
    expect(e.message).toBe("upstream returned 500 (model m)");
    expect(e.body).toBeUndefined();
  });
});

describe("toUpstreamError", () => {
  it("maps undici timeouts, socket errors and aborts", () => {
    expect(toUpstreamError(coded("UND_ERR_HEADERS_TIMEOUT"), ctx)).toMatchObject({
      kind: "timeout",
      retryable: true,
    });
    expect(toUpstreamError(coded("UND_ERR_BODY_TIMEOUT"), ctx).message).toBe(
      "upstream response body was idle for more than 2000 ms (model m)",
    );
    expect(toUpstreamError(coded("UND_ERR_CONNECT_TIMEOUT"), ctx).kind).toBe("timeout");
    expect(toUpstreamError(coded("ECONNRESET"), ctx)).toMatchObject({ kind: "network", retryable: true });
    expect(toUpstreamError(coded("UND_ERR_SOCKET", "other side closed"), ctx).message).toBe(
      "upstream connection failed: other side closed (model m)",
    );
    expect(toUpstreamError(coded("UND_ERR_INVALID_ARG"), ctx)).toMatchObject({
      kind: "network",
      retryable: false,
    });
    const aggregate = new AggregateError([coded("ECONNREFUSED", "connect ECONNREFUSED ::1:1")], "");
    expect(toUpstreamError(aggregate, ctx)).toMatchObject({ kind: "network", retryable: true });
    const signal = AbortSignal.abort();
    expect(toUpstreamError(coded("UND_ERR_SOCKET"), { ...ctx, signal })).toMatchObject({ kind: "aborted" });
  });

  it("passes an UpstreamError through and redacts secrets in other messages", () => {
    const e = new UpstreamError("protocol", "p");
    expect(toUpstreamError(e, ctx)).toBe(e);
    expect(toUpstreamError(new Error("failed with sk-secret-123"), ctx).message).not.toContain(
      "sk-secret-123",
    );
  });
});

describe("redactJson", () => {
  it("replaces secrets anywhere in a JSON value", () => {
    expect(redactJson({ a: ["x sk-secret-123"] }, ["sk-secret-123"])).toEqual({ a: ["x [redacted]"] });
    const clean = { a: 1 };
    expect(redactJson(clean, ["sk-secret-123"])).toBe(clean);
  });
});

describe("parseRetryAfter", () => {
  it("reads delta seconds, HTTP dates and retry-after-ms", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter({ "retry-after": "2" }, now)).toBe(2000);
    expect(parseRetryAfter({ "retry-after": "0.5" }, now)).toBe(500);
    expect(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:03 GMT" }, now)).toBe(3000);
    expect(parseRetryAfter({ "retry-after": "Wed, 31 Dec 2025 00:00:00 GMT" }, now)).toBe(0);
    expect(parseRetryAfter({ "retry-after-ms": "250", "retry-after": "9" }, now)).toBe(250);
    expect(parseRetryAfter({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "-1" }, now)).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "" }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });
});

describe("retryDelayMs", () => {
  const options = { retryBaseMs: 100, retryMaxMs: 1000 };
  it("uses full jitter under an exponential, capped ceiling", () => {
    expect(retryDelayMs(0, undefined, { ...options, random: () => 1 })).toBe(100);
    expect(retryDelayMs(3, undefined, { ...options, random: () => 1 })).toBe(800);
    expect(retryDelayMs(10, undefined, { ...options, random: () => 1 })).toBe(1000);
    expect(retryDelayMs(3, undefined, { ...options, random: () => 0.5 })).toBe(400);
    expect(retryDelayMs(3, undefined, { ...options, random: () => 0 })).toBe(0);
  });

  it("honours Retry-After up to retryMaxMs", () => {
    expect(retryDelayMs(0, 300, options)).toBe(300);
    expect(retryDelayMs(0, 60_000, options)).toBe(1000);
  });
});
