import { describe, expect, it } from "vitest";
import { isLoopbackHost, unauthenticatedBindProblem } from "./bind-policy.ts";

describe("bind policy", () => {
  it("knows loopback addresses from the others", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ["0.0.0.0", "::", "", "10.0.0.5", "192.0.2.2", "fd00::2", "gateway", "128.0.0.1"]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it("refuses an open gateway off loopback, unless keys are set or ALLOW_UNAUTHENTICATED says so", () => {
    const open = { GATEWAY_API_KEYS: [], HOST: "0.0.0.0", ALLOW_UNAUTHENTICATED: false };
    expect(unauthenticatedBindProblem(open)).toMatch(/ALLOW_UNAUTHENTICATED=true/);
    expect(unauthenticatedBindProblem({ ...open, HOST: "127.0.0.1" })).toBeUndefined();
    expect(unauthenticatedBindProblem({ ...open, ALLOW_UNAUTHENTICATED: true })).toBeUndefined();
    expect(unauthenticatedBindProblem({ ...open, GATEWAY_API_KEYS: ["sk-one"] })).toBeUndefined();
  });
});
