import { lookup } from "node:dns/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * web_fetch's SSRF guard end to end: a panelist (scripted with `fetchUrls`) asks the real panel worker
 * to fetch private, loopback and metadata URLs. Each call must come back to the model as a refusal,
 * and nothing may reach the forbidden target. The stack allows the simulator's own host:port
 * (WEB_FETCH_ALLOW_HOSTS), so fetching it still works.
 */

// One turn here asks for more fetches than MAX_TOOL_CALLS_PER_TURN's default (8) runs.
const e2e = useStack({ env: { MAX_TOOL_CALLS_PER_TURN: "16" } });

/** A server on a port that is NOT in WEB_FETCH_ALLOW_HOSTS; it counts every request it sees. */
let trap: Server;
let trapPort: number;
let trapHits: string[] = [];

beforeAll(async () => {
  trap = createServer((req, res) => {
    trapHits.push(`${req.method} ${req.url}`);
    res.end("TRAP-SECRET");
  });
  const listen = (host: string) =>
    new Promise<number>((resolve, reject) => {
      trap.once("error", reject);
      trap.listen(0, host, () => {
        trap.off("error", reject);
        resolve((trap.address() as AddressInfo).port);
      });
    });
  // Dual stack where IPv6 exists, so that requests to [::1] would be seen too.
  trapPort = await listen("::").catch(() => listen("127.0.0.1"));
});
afterAll(async () => {
  await new Promise<void>((resolve) => trap?.close(() => resolve()));
});

type ToolMessage = { role: string; content?: string };

describe("web_fetch refuses private targets end to end", () => {
  it("each forbidden URL becomes a refusal the panelist sees and reports; the allowed host is fetched", async () => {
    // The trap really counts what reaches it.
    await fetch(`http://127.0.0.1:${trapPort}/probe`);
    expect(trapHits).toEqual(["GET /probe"]);
    trapHits = [];

    const sim = e2e.sim.url;
    const forbidden: Array<[url: string, reason: RegExp]> = [
      [`http://127.0.0.1:${trapPort}/secret`, /127\.0\.0\.1 is a loopback address/],
      [`http://localhost:${trapPort}/secret`, /localhost is a local or internal host name/],
      ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a link-local address/],
      [`http://[::1]:${trapPort}/secret`, /::1 is a loopback address/],
      ["http://10.0.0.1/admin", /10\.0\.0\.1 is a private address/],
      [`http://2130706433:${trapPort}/decimal`, /127\.0\.0\.1 is a loopback address/],
      [`http://0x7f.1:${trapPort}/hex`, /127\.0\.0\.1 is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${trapPort}/mapped`, /loopback address \(embedded in ipv4Mapped\)/],
      [
        `${sim}/pages/redirect?to=${encodeURIComponent(`http://127.0.0.1:${trapPort}/redirected`)}`,
        /127\.0\.0\.1 is a loopback address \(redirected from http:\/\/127\.0\.0\.1:\d+\/pages\/redirect/,
      ],
      ["file:///etc/passwd", /scheme not allowed \(file:\)/],
      // A name that resolves to a local address (this machine's own name): the refusal names the rule,
      // never the address it resolved to (issue 11, finding 8).
      [`http://${hostname()}:${trapPort}/named`, /resolves to an? [a-z-]+ address/],
    ];
    const resolved = (await lookup(hostname(), { all: true })).map((a) => a.address);
    expect(resolved.length).toBeGreaterThan(0);
    const allowed = `${sim}/pages/ssrf-allowed`;

    const panelist = uniqueModel("fetcher");
    const judge = uniqueModel("judge");
    await e2e.control.script(panelist, { fetchUrls: [...forbidden.map(([url]) => url), allowed] });
    await e2e.control.script(judge, { toolSteps: 0 });
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "fetch these" }],
      plugins: [{ id: "fusion", analysis_models: [panelist], model: judge, tools: ["web_fetch"] }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      fusion: {
        status: string;
        responses: Array<{ model: string; content: string }>;
        failed_models?: string[];
      };
    };
    expect(body.fusion.failed_models ?? []).toEqual([]);

    // The tool results the worker sent back to the model: one refusal per forbidden URL, in order.
    const calls = await e2e.control.requests({ model: panelist });
    expect(calls).toHaveLength(2);
    const toolResults = ((calls[1]?.body as { messages?: ToolMessage[] } | undefined)?.messages ?? [])
      .filter((m) => m.role === "tool")
      .map((m) => JSON.parse(m.content ?? "{}") as { error?: string; content?: string; url?: string });
    expect(toolResults).toHaveLength(forbidden.length + 1);
    forbidden.forEach(([url, reason], i) => {
      const error = toolResults[i]?.error ?? "";
      expect(error, url).toContain("refused to fetch");
      expect(error, url).toMatch(reason);
    });
    expect(toolResults.at(-1)).toMatchObject({
      url: allowed,
      content: expect.stringContaining("About ssrf-allowed"),
    });

    // The refusals reached the panel's answer, and so did the allowed page.
    const answer = body.fusion.responses.find((r) => r.model === panelist)?.content ?? "";
    expect(answer).toContain('Fetched: "About ssrf-allowed');
    const errors = answer.slice(answer.indexOf("Tool errors:"));
    for (const [url, reason] of forbidden) expect(errors, url).toMatch(reason);
    expect(answer).not.toContain("TRAP-SECRET");
    const named = toolResults[forbidden.length - 1]?.error ?? "";
    expect(named).toMatch(/^refused to fetch http:\/\/[^/]+\/named: \S+ resolves to an? [a-z-]+ address$/);
    for (const address of resolved) {
      expect(named).not.toContain(address);
      expect(answer).not.toContain(`(${address})`);
    }

    // Nothing reached the forbidden target.
    expect(trapHits).toEqual([]);
  });

  it("a panelist's web_fetch cannot read the simulator's control API (issue 11, finding 12); its pages still work", async () => {
    const sim = e2e.sim.url;
    const secret = `tenant-secret-${Math.random().toString(36).slice(2, 10)}`;
    const control = [`${sim}/_sim/requests`, `${sim}/_sim/request-counts`, `${sim}/_sim/scripts`];
    const page = `${sim}/pages/control-probe`;
    const panelist = uniqueModel("control-fetcher");
    const judge = uniqueModel("judge");
    await e2e.control.script(panelist, { fetchUrls: [...control, page] });
    await e2e.control.script(judge, { toolSteps: 0 });
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: `fetch these, ${secret}` }],
      plugins: [{ id: "fusion", analysis_models: [panelist], model: judge, tools: ["web_fetch"] }],
    });
    expect(res.status).toBe(200);
    const text = await res.text();

    const calls = await e2e.control.requests({ model: panelist });
    expect(calls).toHaveLength(2);
    expect(JSON.stringify(calls[0]?.body)).toContain(secret);
    const toolResults = ((calls[1]?.body as { messages?: ToolMessage[] } | undefined)?.messages ?? [])
      .filter((m) => m.role === "tool")
      .map((m) => m.content ?? "");
    expect(toolResults).toHaveLength(control.length + 1);
    control.forEach((url, i) => {
      const result = JSON.parse(toolResults[i] ?? "{}") as { error?: string; content?: string };
      expect(result.error, url).toMatch(/HTTP 404/);
      expect(result.content, url).toBeUndefined();
      expect(toolResults[i], url).not.toContain(secret);
      expect(toolResults[i], url).not.toContain(panelist);
    });
    expect(JSON.parse(toolResults.at(-1) ?? "{}")).toMatchObject({
      url: page,
      content: expect.stringContaining("About control-probe"),
    });
    // Nor did anything of the control API reach the answer.
    expect(text).not.toContain("byRole");
  });
});
