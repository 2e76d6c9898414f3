/**
 * The in-process baseline: the same fusion pipeline in one process, with no queue, no Redis and no
 * relay. It runs the pipeline's own stages, as the workers do (see lib/baseline-fusion.ts): the
 * panel concurrently, then the judge, then the writer, whose answer is streamed token by token
 * straight onto the client's response. A bare `node:http` front speaks the same API subset as the
 * gateway for the bench's request (`openrouter/fusion` with the fusion plugin, streaming or not), so
 * that one load generator measures both the same way over loopback.
 *
 *   SIM_URL=http://127.0.0.1:PORT node bench/baseline.ts   → prints {"service":"baseline","url":...}
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UpstreamClient } from "@fusion/llm-client";
import type { EventSink, StageLogger } from "@fusion/pipeline";
import { newFusionId } from "@fusion/runtime";
import { createWebTools } from "@fusion/web-tools";
import type { PendingEvent } from "@fusion/wire";
import {
  type BaselineDeps,
  type FusionRequest,
  forcedTurn,
  runBaselineFusion,
} from "./lib/baseline-fusion.ts";

const simUrl = process.env.SIM_URL;
if (!simUrl) throw new Error("SIM_URL is required");
const keepAliveMs = Number(process.env.KEEPALIVE_MS ?? 10_000);

// The same settings the worker runtime builds from its environment (see worker-runtime.ts and the
// bench's Stack environment).
const upstream = new UpstreamClient({
  baseUrl: `${simUrl}/v1`,
  apiKey: "sk-bench-baseline",
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 120_000,
  maxRetries: 3,
  retryBaseMs: 20,
  retryMaxMs: 3000,
  // Unset: the client's default pool size, as in the services. Set: an experiment (--baseline-connections).
  ...(process.env.UPSTREAM_CONNECTIONS ? { connections: Number(process.env.UPSTREAM_CONNECTIONS) } : {}),
});
const tools = createWebTools({
  searxngUrl: simUrl,
  allowHosts: [new URL(simUrl).host],
  fetchTimeoutMs: 15_000,
  maxChars: 20_000,
});
/** Warnings and errors only, as one JSON line each: the baseline measures the pipeline, not its logging. */
const log: StageLogger = {
  info: () => {},
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: "warn", msg, ...obj })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: "error", msg, ...obj })}\n`),
};
const deps: BaselineDeps = { upstream, tools, innerHeaders: { "x-openrouter-fusion-depth": "1" }, log };

const text = (data: PendingEvent["data"]) => (typeof data === "string" ? data : JSON.stringify(data));

/** A streaming client's sink: each chunk is an SSE frame at once; the end of the fusion ends the stream. */
function sseSink(res: ServerResponse): EventSink {
  let n = 0;
  return {
    async append(_fusionId, ...events) {
      for (const e of events) {
        if (e.type === "chunk") res.write(`data: ${text(e.data)}\n\n`);
      }
      return `${++n}-0`;
    },
  };
}

/** A non-streaming client's sink: the completion, or the error in the gateway's shape, once the fusion ends. */
function jsonSink(res: ServerResponse): EventSink {
  let n = 0;
  return {
    async append(_fusionId, ...events) {
      for (const e of events) {
        if (e.type === "final") sendJson(res, 200, (e.data as { completion: unknown }).completion);
        if (e.type === "error") {
          const { status, message } = e.data as { status: number; message: string };
          sendJson(res, status, { error: { code: status, message } });
        }
      }
      return `${++n}-0`;
    },
  };
}

async function handleFusion(
  request: FusionRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  req.on("close", onClose);
  res.on("close", onClose);
  const fusionId = newFusionId();
  const turn = forcedTurn(request, fusionId);

  if (!turn.stream) {
    await runBaselineFusion(turn, deps, jsonSink(res), abort.signal);
    if (!res.headersSent)
      sendJson(res, 502, { error: { code: 502, message: "the fusion ended without an answer" } });
    return;
  }

  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-fusion-id": fusionId,
  });
  res.write(": OPENROUTER PROCESSING\n\n");
  const keepAlive = setInterval(() => res.write(": OPENROUTER PROCESSING\n\n"), keepAliveMs);
  try {
    await runBaselineFusion(turn, deps, sseSink(res), abort.signal);
  } finally {
    clearInterval(keepAlive);
    res.end("data: [DONE]\n\n");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

const server = createServer(async (req, res) => {
  if (req.method === "GET" && (req.url === "/healthz" || req.url === "/readyz")) {
    return sendJson(res, 200, { ok: true });
  }
  if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
    return sendJson(res, 404, { error: { code: 404, message: "not found" } });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let request: FusionRequest;
  try {
    request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return sendJson(res, 400, { error: { code: 400, message: "the request body is not valid JSON" } });
  }
  try {
    await handleFusion(request, req, res);
  } catch (err) {
    sendJson(res, 500, { error: { code: 500, message: (err as Error).message } });
  }
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ service: "baseline", url: `http://127.0.0.1:${port}` })}\n`);
});

const stop = () => {
  server.close(() => {
    void upstream.close().finally(() => process.exit(0));
  });
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
