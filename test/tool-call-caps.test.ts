import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * Issue 11, finding 2: one model turn asking for 300 web_fetch calls (with `max_tool_calls: 1`) made
 * the workers open 300 connections at once. Now a turn runs at most MAX_TOOL_CALLS_PER_TURN (default
 * 8) of its calls, a worker runs at most WEB_TOOL_CONCURRENCY at once, a fusion at most
 * MAX_TOOL_CALLS_PER_FUSION in all; every call beyond is answered with a tool error the model reads.
 */
const e2e = useStack({
  env: {
    // Any port on 127.0.0.1: the simulator and this file's page server.
    WEB_FETCH_ALLOW_HOSTS: "127.0.0.1",
    WEB_TOOL_CONCURRENCY: "3",
    MAX_TOOL_CALLS_PER_FUSION: "20",
  },
});

/** A slow page server that counts requests, requests in flight and open connections. */
let pages: Server;
let base: string;
const seen = { requests: 0, inFlight: 0, maxInFlight: 0, sockets: 0, maxSockets: 0, connections: 0 };

const closers = new WeakMap<Socket, () => void>();

beforeAll(async () => {
  pages = createServer((req, res) => {
    seen.requests++;
    seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight);
    res.on("finish", () => closers.get(req.socket)?.());
    setTimeout(() => {
      seen.inFlight--;
      // One request per connection: the server closes it once the page is sent.
      res.writeHead(200, { "content-type": "text/html", connection: "close" });
      res.end(
        `<html><head><title>Page ${req.url}</title></head><body><p>Slow page ${req.url}</p></body></html>`,
      );
    }, 300);
  });
  // A connection is open from when it is accepted until its page is sent (or it closes first).
  pages.on("connection", (socket) => {
    seen.connections++;
    seen.maxSockets = Math.max(seen.maxSockets, ++seen.sockets);
    let open = true;
    const closed = () => {
      if (open) seen.sockets--;
      open = false;
    };
    socket.on("close", closed);
    closers.set(socket, closed);
  });
  await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
afterAll(async () => {
  pages?.closeAllConnections();
  await new Promise<void>((resolve) => pages?.close(() => resolve()));
});
beforeEach(() => {
  Object.assign(seen, { requests: 0, inFlight: 0, maxInFlight: 0, maxSockets: seen.sockets, connections: 0 });
});

type ToolMessage = { role: string; content?: string };

/** The tool results the worker sent back to a panelist, parsed. */
async function toolResults(panelist: string): Promise<Array<{ error?: string; url?: string }>> {
  const calls = await e2e.control.requests({ model: panelist });
  expect(calls).toHaveLength(2);
  return ((calls[1]?.body as { messages?: ToolMessage[] } | undefined)?.messages ?? [])
    .filter((m) => m.role === "tool")
    .map((m) => JSON.parse(m.content ?? "{}") as { error?: string; url?: string });
}

async function fusion(panel: string[], judge: string): Promise<void> {
  await e2e.control.script(judge, { toolSteps: 0 });
  const res = await e2e.post({
    model: "openrouter/fusion",
    messages: [{ role: "user", content: "read all of these" }],
    plugins: [
      { id: "fusion", analysis_models: panel, model: judge, tools: ["web_fetch"], max_tool_calls: 1 },
    ],
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { fusion: { status: string; failed_models?: string[] } };
  expect(body.fusion.failed_models ?? []).toEqual([]);
}

describe("tool-call caps (issue 11, finding 2)", () => {
  it("a turn asking for 300 fetches runs 8, at most 3 at once; the other 292 get a tool error", async () => {
    const panelist = uniqueModel("flood");
    const urls = [`${base}/a`, `${base}/b`, `${base}/c`];
    await e2e.control.script(panelist, { fetchUrls: urls, fetchRepeat: 100 });
    await fusion([panelist], uniqueModel("judge"));

    expect(seen.requests).toBe(8);
    expect(seen.maxInFlight, JSON.stringify(seen)).toBeLessThanOrEqual(3);
    expect(seen.maxSockets, JSON.stringify(seen)).toBeLessThanOrEqual(3);
    expect(seen.connections).toBeLessThanOrEqual(8);

    const results = await toolResults(panelist);
    expect(results).toHaveLength(300);
    expect(results.slice(0, 8).map((r) => r.error)).toEqual(Array(8).fill(undefined));
    expect(results.slice(0, 8).map((r) => r.url)).toEqual([...urls, ...urls, ...urls].slice(0, 8));
    for (const r of results.slice(8)) {
      expect(r.error).toBe("not run: at most 8 tool calls are run per turn; call fewer tools at once");
    }
  }, 60_000);

  it("a fusion's panelists run MAX_TOOL_CALLS_PER_FUSION calls in all; the rest get a tool error", async () => {
    const panel = [uniqueModel("p1"), uniqueModel("p2"), uniqueModel("p3"), uniqueModel("p4")];
    for (const [i, panelist] of panel.entries()) {
      await e2e.control.script(panelist, { fetchUrls: [`${base}/p${i}`], fetchRepeat: 8 });
    }
    await fusion(panel, uniqueModel("judge"));

    // 4 panelists x 8 calls asked; 20 ran (the budget), across processes and panelists.
    expect(seen.requests).toBe(20);
    expect(seen.maxInFlight, JSON.stringify(seen)).toBeLessThanOrEqual(3);
    const results = (await Promise.all(panel.map(toolResults))).flat();
    expect(results).toHaveLength(32);
    const refused = results.filter((r) => r.error !== undefined);
    expect(refused).toHaveLength(12);
    for (const r of refused) {
      expect(r.error).toBe("not run: this fusion's budget of 20 tool calls is used up; answer now");
    }
  }, 60_000);
});
