import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { connect, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  freePort,
  readSseFrames,
  type ScriptedServer,
  type ServiceName,
  Stack,
  sendJson,
  serviceEntries,
  startScriptedServer,
} from "@fusion/testing";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * Edge hygiene (issue 11, findings 5, 7, 9, 11 and 12's owner ids), on the real processes: upstream
 * errors on the proxy path, safe defaults, duplicate JSON keys, slow and numerous clients, owner ids.
 */
const e2e = useStack();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const user = [{ role: "user", content: "hi" }];

/** Extra gateways of this file (own environment, same Redis and simulator), stopped after it. */
const extras: Stack[] = [];
afterAll(async () => {
  await Promise.all(extras.map((s) => s.stop()));
});

/** One more gateway process, on the stack's queues (its workers make it ready), with this environment. */
async function gatewayWith(env: Record<string, string>): Promise<Stack> {
  const stack = new Stack({
    redisUrl: e2e.redis.url,
    simulatorUrl: e2e.sim.url,
    env: { QUEUE_PREFIX: e2e.stack.prefix, ...env },
  });
  extras.push(stack);
  stack.spawn("gateway", 0, await freePort());
  await stack.waitReady(stack.baseUrl);
  return stack;
}

/** A service process with exactly this environment (no HOST unless given); its exit and its output. */
function spawnService(
  name: ServiceName,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [join(root, serviceEntries[name])], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (output += b.toString()));
  return { child, output: () => output };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("finding 5: upstream errors on the proxy path", () => {
  it("an upstream 401 or 403 quoting the upstream key is a 502 naming the upstream, the key redacted", async () => {
    const up = e2e.stack.upstreamKey;
    const message = `Incorrect API key provided: ${up} (Authorization: Bearer ${up})`;
    const simHost = new URL(e2e.sim.url).host;
    for (const status of [401, 403]) {
      const model = uniqueModel(`plain-${status}`);
      await e2e.control.script(model, { alwaysFail: { status, message } });
      for (const stream of [false, true]) {
        const res = await e2e.post({ model, stream, messages: user });
        const text = await res.text();
        expect(res.status).toBe(502);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        expect(text).not.toContain(up);
        const body = JSON.parse(text) as { error: { code: number; type: string; message: string } };
        expect(body.error).toMatchObject({ code: 502, type: "upstream_error" });
        expect(body.error.message).toContain(
          `upstream ${simHost} refused the gateway's upstream credentials`,
        );
        expect(body.error.message).toContain("Incorrect API key provided: [redacted]");
      }
    }
  });

  it("other upstream errors keep their status in our error shape, redacted, with retry-after", async () => {
    const up = e2e.stack.upstreamKey;
    const bad = uniqueModel("plain-400");
    await e2e.control.script(bad, { alwaysFail: { status: 400, message: `bad request for key ${up}` } });
    const res = await e2e.post({ model: bad, messages: user });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain(up);
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 400, type: "bad_request", message: expect.stringContaining("[redacted]") },
    });

    const limited = uniqueModel("plain-429");
    await e2e.control.script(limited, { failures: [{ status: 429, retryAfter: 7, message: "slow down" }] });
    const throttled = await e2e.post({ model: limited, messages: user });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("7");
    expect(await throttled.json()).toMatchObject({ error: { code: 429, type: "rate_limited" } });
  });
});

describe("finding 7: safe defaults", () => {
  it("a body that is not declared JSON is 415 in the error shape, and nothing reaches the upstream", async () => {
    const model = uniqueModel("cross-site");
    const body = JSON.stringify({ model, messages: user });
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await e2e.post(body, { headers: { "content-type": type } });
      expect(res.status, type).toBe(415);
      expect(await res.json()).toMatchObject({ error: { code: 415, type: "unsupported_media_type" } });
    }
    expect(await e2e.control.requests({ model })).toEqual([]);
    const json = await e2e.post(body, { headers: { "content-type": "Application/JSON; charset=utf-8" } });
    expect(json.status).toBe(200);
    await json.text();
  });

  it("without keys the gateway refuses a non-loopback address unless ALLOW_UNAUTHENTICATED=true", async () => {
    const port = await freePort();
    const open = { ...e2e.stack.env(), GATEWAY_API_KEYS: "", PORT: String(port), HOST: "0.0.0.0" };
    const refused = spawnService("gateway", open);
    const code = await new Promise<number | null>((resolve) => refused.child.once("exit", resolve));
    expect(code).toBe(1);
    expect(refused.output()).toContain("ALLOW_UNAUTHENTICATED=true");

    const allowed = spawnService("gateway", { ...open, ALLOW_UNAUTHENTICATED: "true" });
    try {
      await vi.waitFor(
        async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200),
        {
          timeout: 20_000,
          interval: 100,
        },
      );
    } finally {
      await stopChild(allowed.child);
    }
  });

  it("the gateway and worker metrics listen on 127.0.0.1 unless HOST or METRICS_HOST say otherwise", async () => {
    const base = e2e.stack.env();
    const port = await freePort();
    const gateway = spawnService("gateway", { ...base, GATEWAY_API_KEYS: "", PORT: String(port) });
    const metricsPort = await freePort();
    const worker = spawnService("panel-worker", {
      ...base,
      QUEUE_PREFIX: "{edge-metrics}",
      METRICS_PORT: String(metricsPort),
    });
    try {
      // Open (no keys) is allowed on loopback, and loopback is where it listens.
      await vi.waitFor(
        async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200),
        {
          timeout: 20_000,
          interval: 100,
        },
      );
      expect(gateway.output()).toMatch(/"host":"127\.0\.0\.1".*gateway listening/);
      await vi.waitFor(
        async () => expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200),
        { timeout: 20_000, interval: 100 },
      );
      expect(worker.output()).toMatch(/"host":"127\.0\.0\.1".*metrics server listening/);
      const external = externalAddress();
      if (external) {
        expect(await accepts(external, port)).toBe(false);
        expect(await accepts(external, metricsPort)).toBe(false);
      }
    } finally {
      await stopChild(gateway.child);
      await stopChild(worker.child);
    }
  });
});

describe("finding 9: duplicate JSON keys", () => {
  let upstream: ScriptedServer;
  afterAll(() => upstream?.close());

  it("the proxy forwards the body it validated, serialised again, never the raw bytes", async () => {
    upstream = await startScriptedServer((_req, res) =>
      sendJson(res, 200, {
        id: "c1",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      }),
    );
    const gw = await gatewayWith({ UPSTREAM_BASE_URL: upstream.baseUrl });
    // The first copies are what an upstream that keeps the first key would read: not what was checked.
    const raw =
      '{"model":"sim/evil","messages":[{"role":"user","content":"hi"}],"n":5,' +
      '"model":"sim/checked","n":1,"custom":{"x":1,"x":2}}';
    const res = await fetch(`${gw.baseUrl}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gw.apiKey}` },
      body: raw,
    });
    expect(res.status).toBe(200);
    await res.text();
    const sent = upstream.requests.at(-1)?.body ?? "";
    expect(sent).toBe(JSON.stringify(JSON.parse(raw)));
    expect(sent).not.toContain("sim/evil");
    expect(JSON.parse(sent)).toMatchObject({ model: "sim/checked", n: 1, custom: { x: 2 } });
  });
});

/** Opens a connection and writes `head`; resolves with what came back and how long until it closed. */
function slowRequest(port: number, head: string, trickle: string): Promise<{ ms: number; received: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = "";
    const socket: Socket = connect({ host: "127.0.0.1", port });
    let i = 0;
    const timer = setInterval(() => {
      if (socket.writable) socket.write(trickle[i++ % trickle.length] ?? "x");
    }, 200);
    socket.on("connect", () => socket.write(head));
    socket.on("data", (b: Buffer) => (received += b.toString()));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - started, received });
    });
  });
}

/** Opens a connection, sends a whole GET /healthz and keeps it open: "answered", or "refused" when closed first. */
function heldConnection(port: number): Promise<{ outcome: "answered" | "refused"; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    socket.once("data", () => resolve({ outcome: "answered", socket }));
    socket.on("error", () => {});
    socket.once("close", () => resolve({ outcome: "refused", socket }));
  });
}

describe("finding 11: slow and numerous clients", () => {
  const limits = { HTTP_HEADERS_TIMEOUT_MS: "1000", HTTP_REQUEST_TIMEOUT_MS: "2000", MAX_CONNECTIONS: "6" };
  let limited: Promise<Stack> | undefined;
  const gatewayWithLimits = () => {
    limited ??= gatewayWith(limits);
    return limited;
  };

  it("a client that trickles its headers is cut after HTTP_HEADERS_TIMEOUT_MS", async () => {
    const gw = await gatewayWithLimits();
    const port = Number(new URL(gw.baseUrl).port);
    const { ms, received } = await slowRequest(
      port,
      "POST /api/v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ",
      "abcdefgh",
    );
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3500);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it("a client that trickles its body is cut after HTTP_REQUEST_TIMEOUT_MS", async () => {
    const gw = await gatewayWithLimits();
    const port = Number(new URL(gw.baseUrl).port);
    const head =
      "POST /api/v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
      `authorization: Bearer ${gw.apiKey}\r\ncontent-length: 100000\r\n\r\n{"model":"m","messages":`;
    const { ms, received } = await slowRequest(port, head, "[[[[");
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(5000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it("connections beyond MAX_CONNECTIONS are refused, and accepted again once others close", async () => {
    const gw = await gatewayWithLimits();
    const port = Number(new URL(gw.baseUrl).port);
    const held: Array<{ outcome: "answered" | "refused"; socket: Socket }> = [];
    for (let i = 0; i < 10; i++) held.push(await heldConnection(port));
    const answered = held.filter((h) => h.outcome === "answered").length;
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(6);
    expect(held.slice(6).every((h) => h.outcome === "refused")).toBe(true);
    for (const h of held) h.socket.destroy();
    await vi.waitFor(async () => expect((await fetch(`${gw.baseUrl}/healthz`)).status).toBe(200), {
      timeout: 5000,
      interval: 100,
    });
  });
});

describe("finding 12: owner ids are keyed hashes", () => {
  const hmac = (secret: string, key: string) =>
    createHmac("sha256", secret).update(key).digest("hex").slice(0, 16);

  it("a fusion's owner is the HMAC of its key under the deployment's secret, made once in Redis", async () => {
    const res = await e2e.post({
      model: "openrouter/fusion",
      stream: true,
      messages: user,
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("panelist")], model: uniqueModel("judge") }],
    });
    const fusionId = res.headers.get("x-fusion-id") ?? "";
    await readSseFrames(res);
    const redis = new Redis(e2e.redis.url);
    try {
      const secret = (await redis.get("fusion:owner-id-secret")) ?? "";
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      const owner = await redis.hget(`fusion:{${fusionId}}:meta`, "owner");
      expect(owner).toBe(hmac(secret, e2e.stack.apiKey));
    } finally {
      redis.disconnect();
    }
  });

  it("OWNER_ID_SECRET, when set, is the key of that hash", async () => {
    const gw = await gatewayWith({ OWNER_ID_SECRET: "configured-owner-secret", RATE_LIMIT_RPM: "100" });
    const res = await fetch(`${gw.baseUrl}/api/v1/models`, {
      headers: { authorization: `Bearer ${gw.apiKey}` },
    });
    expect(res.status).toBe(200);
    const redis = new Redis(e2e.redis.url);
    try {
      const prefix = e2e.stack.prefix;
      const rpmKeys = await redis.keys(`${prefix}:limits:rpm:*`);
      expect(rpmKeys).toEqual([`${prefix}:limits:rpm:${hmac("configured-owner-secret", gw.apiKey)}`]);
    } finally {
      redis.disconnect();
    }
  });
});

describe("finding 12: X-Request-Id is checked", () => {
  it("a well-formed id is kept; an overlong one or one with other characters is replaced by a generated id", async () => {
    // A body that is not JSON: the gateway's own 400 answer carries the request id.
    const send = async (id: string) => {
      const res = await e2e.post("{", { headers: { "x-request-id": id } });
      expect(res.status).toBe(400);
      await res.text();
      return res.headers.get("x-request-id");
    };
    expect(await send("trace-42_ok=")).toBe("trace-42_ok=");
    for (const hostile of ["x".repeat(1000), "id with spaces", "id;drop", "a/b"]) {
      const answered = await send(hostile);
      expect(answered, JSON.stringify(hostile.slice(0, 20))).not.toBe(hostile);
      expect(answered).toMatch(/^[\w=-]{1,255}$/);
    }
  });
});
