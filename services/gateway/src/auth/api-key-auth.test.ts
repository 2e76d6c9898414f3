import { createHmac } from "node:crypto";
import { createLogger } from "@fusion/runtime";
import { requestId } from "hono/request-id";
import { describe, expect, it } from "vitest";
import { factory } from "../factory.ts";
import { errorHandler } from "../http/error-handlers.ts";
import { apiKeyAuth } from "./api-key-auth.ts";
import { ownerIdWith } from "./owner-id.ts";

const secret = "owner-id-secret-for-tests";

function app(keys: string[]) {
  const a = factory.createApp();
  a.use(
    requestId(),
    apiKeyAuth(keys, async (key) => ownerIdWith(secret, key)),
  );
  a.get("/who", (c) => c.json({ keyId: c.get("keyId") }));
  a.onError(errorHandler(createLogger("auth-test", "silent")));
  return a;
}

const keyId = (key: string) => createHmac("sha256", secret).update(key).digest("hex").slice(0, 16);

describe("apiKeyAuth", () => {
  const keys = ["sk-one", "sk-two"];

  it("lets a configured key in, identified by the first 16 hex characters of its HMAC-SHA256", async () => {
    for (const key of keys) {
      const res = await app(keys).request("/who", { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ keyId: keyId(key) });
    }
  });

  it("answers a missing key with 401 in the error shape, a challenge and the request id", async () => {
    const res = await app(keys).request("/who");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toEqual({
      error: {
        code: 401,
        message: "missing API key: send Authorization: Bearer <key>",
        type: "unauthorized",
      },
    });
  });

  it("answers a wrong key and a malformed header alike: 401 invalid API key", async () => {
    for (const authorization of ["Bearer sk-three", "Basic abc", "sk-one", "Bearer", "Bearer a b"]) {
      const res = await app(keys).request("/who", { headers: { authorization } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await res.json()).toEqual({
        error: { code: 401, message: "invalid API key", type: "unauthorized" },
      });
    }
  });

  it("leaves the API open without keys, every caller being 'open'", async () => {
    const res = await app([]).request("/who", { headers: { authorization: "Bearer anything" } });
    expect(await res.json()).toEqual({ keyId: "open" });
    expect(await (await app([]).request("/who")).json()).toEqual({ keyId: "open" });
  });
});
