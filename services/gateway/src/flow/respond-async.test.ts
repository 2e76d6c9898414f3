import { describe, expect, it } from "vitest";
import { asksAsync, asyncAccepted, preferences } from "./respond-async.ts";

describe("Prefer (RFC 7240)", () => {
  it("names each preference, lower-cased, without values or parameters", () => {
    expect([...preferences("respond-async")]).toEqual(["respond-async"]);
    expect([...preferences(" Respond-Async , wait=10;foo=bar, handling=lenient")]).toEqual([
      "respond-async",
      "wait",
      "handling",
    ]);
    // Commas, semicolons and escaped quotes inside quoted strings do not split.
    expect([...preferences('x="a, b; \\"c, d\\"", respond-async;y="1,2"')]).toEqual(["x", "respond-async"]);
    expect(preferences(undefined).size).toBe(0);
    expect(preferences(" , ,").size).toBe(0);
  });

  it("asks async by the header or by fusion.async, refusing a non-boolean field", () => {
    expect(asksAsync("respond-async", undefined)).toBe(true);
    expect(asksAsync("wait=5, respond-async", null)).toBe(true);
    expect(asksAsync(undefined, { async: true })).toBe(true);
    expect(asksAsync("return=minimal", { async: false })).toBe(false);
    expect(asksAsync('x="respond-async"', {})).toBe(false);
    expect(asksAsync(undefined, { async: null })).toBe(false);
    expect(() => asksAsync(undefined, { async: "yes" })).toThrow(/fusion\.async: must be true or false/);
  });
});

describe("the 202 of an async fusion", () => {
  it("names the fusion, its state and where to read it under the base the request used", async () => {
    const fusion = { fusionId: "gen-fusion-1", created: 1_700_000_000_500, model: "sim/w", status: "queued" };
    for (const base of ["/api/v1", "/v1"]) {
      const res = asyncAccepted(`${base}/chat/completions`, fusion, { "x-request-id": "r1" });
      expect(res.status).toBe(202);
      expect(res.headers.get("location")).toBe(`${base}/fusions/gen-fusion-1`);
      expect(res.headers.get("preference-applied")).toBe("respond-async");
      expect(res.headers.get("x-fusion-id")).toBe("gen-fusion-1");
      expect(res.headers.get("x-request-id")).toBe("r1");
      expect(await res.json()).toEqual({
        id: "gen-fusion-1",
        object: "fusion",
        status: "queued",
        created: 1_700_000_000,
        model: "sim/w",
      });
    }
  });
});
