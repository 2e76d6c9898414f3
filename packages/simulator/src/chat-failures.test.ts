import { beforeEach, describe, expect, it } from "vitest";
import { chat, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
beforeEach(() => sim.control.clearScripts());

const ask = (model: string, extra: object = {}) => chat(sim.url, { model, messages: [user("hi")], ...extra });

describe("failures", () => {
  it("consumes scripted failures in order, with Retry-After, then answers", async () => {
    await sim.control.script("sim/flaky", {
      failures: [{ status: 429, retryAfter: 2, message: "slow down" }, { status: 503 }],
    });
    const first = await ask("sim/flaky");
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("2");
    expect(await first.json()).toEqual({ error: { code: 429, message: "slow down" } });
    const second = await ask("sim/flaky");
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBeNull();
    expect(((await second.json()) as { error: { code: number } }).error.code).toBe(503);
    expect((await ask("sim/flaky")).status).toBe(200);

    // Setting the script again resets the counter.
    await sim.control.script("sim/flaky", { failures: [{ status: 500 }] });
    expect((await ask("sim/flaky")).status).toBe(500);
    expect((await ask("sim/flaky")).status).toBe(200);
  });

  it("alwaysFail fails every request, streaming or not", async () => {
    await sim.control.script("sim/fail-all", { alwaysFail: { status: 502, message: "down" } });
    for (const stream of [false, true, false]) {
      const res = await ask("sim/fail-all", { stream });
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ error: { code: 502, message: "down" } });
    }
  });

  it("onlyRoles restricts the script to those roles", async () => {
    await sim.control.script("sim/judge-fails", { alwaysFail: { status: 500 }, onlyRoles: ["judge"] });
    expect((await ask("sim/judge-fails")).status).toBe(200);
    const judge = await ask("sim/judge-fails", { response_format: { type: "json_object" } });
    expect(judge.status).toBe(500);
  });

  it("is keyed by the exact slug as sent", async () => {
    await sim.control.script("~openai/gpt-latest", { alwaysFail: { status: 500 } });
    expect((await ask("~openai/gpt-latest")).status).toBe(500);
    expect((await ask("openai/gpt-sim-1")).status).toBe(200);
  });
});

describe("timing", () => {
  it("latencyMs delays the response headers", async () => {
    await sim.control.script("sim/latent", { latencyMs: 150 });
    const started = Date.now();
    const res = await ask("sim/latent");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.status).toBe(200);
  });

  it("hangMs goes silent after the headers and the first chunk", async () => {
    await sim.control.script("sim/hang", { hangMs: 5_000 });
    const started = Date.now();
    const res = await ask("sim/hang", { stream: true, tools: [tool("web_search")] });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain('"role":"assistant"');
    const next = await Promise.race([
      reader?.read().then(() => "data"),
      new Promise((resolve) => setTimeout(() => resolve("silent"), 100)),
    ]);
    expect(next).toBe("silent");
    await reader?.cancel();

    const abort = new AbortController();
    const plain = await chat(sim.url, { model: "sim/hang", messages: [user("hi")] }, undefined, abort.signal);
    expect(plain.status).toBe(200);
    const body = await Promise.race([
      plain.text().then(
        () => "body",
        () => "aborted",
      ),
      new Promise((resolve) => setTimeout(() => resolve("silent"), 100)),
    ]);
    expect(body).toBe("silent");
    abort.abort();
  });
});
