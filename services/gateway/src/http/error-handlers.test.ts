import { createLogger } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { describe, expect, it } from "vitest";
import { factory } from "../factory.ts";
import { errorHandler, notFound } from "./error-handlers.ts";

function app(err: unknown) {
  const a = factory.createApp();
  a.use(requestId());
  a.get("/fail", () => {
    throw err;
  });
  a.notFound(notFound);
  a.onError(errorHandler(createLogger("errors-test", "silent")));
  return a;
}

describe("errorHandler", () => {
  it("answers a FusionError with its status, headers and the error shape", async () => {
    const err = new FusionError("rate_limited", "slow down", {
      headers: { "retry-after": "3" },
      metadata: { limit: "requests_per_minute" },
    });
    const res = await app(err).request("/fail");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toEqual({
      error: {
        code: 429,
        message: "slow down",
        type: "rate_limited",
        metadata: { limit: "requests_per_minute" },
      },
    });
  });

  it("answers an HTTPException with the response it carries, keeping its headers", async () => {
    const res = new Response('{"error":{"code":401}}', {
      status: 401,
      headers: { "www-authenticate": "Bearer", "content-type": "application/json" },
    });
    const answer = await app(new HTTPException(401, { res })).request("/fail");
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    expect(answer.headers.get("x-request-id")).toBeTruthy();
    expect(await answer.json()).toEqual({ error: { code: 401 } });
  });

  it("answers an HTTPException without a response in the error shape", async () => {
    const res = await app(new HTTPException(400, { message: "Malformed JSON" })).request("/fail");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 400, message: "Malformed JSON", type: "bad_request" },
    });
  });

  it("answers anything else with 500 internal error, and an unknown path with 404", async () => {
    const res = await app(new Error("secret detail")).request("/fail");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 500, message: "internal error", type: "internal" } });
    const missing = await app(undefined).request("/nowhere");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: { code: 404, message: "no route for GET /nowhere" },
    });
  });
});
