import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../logger.ts";
import { type FusionMetrics, metrics } from "./fusion-metrics.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Whether an Authorization header carries the metrics token; always true when no token is set. */
export function metricsAuthorized(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const match = /^Bearer\s+(.+)$/i.exec((header ?? "").trim());
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1].trim()), digest(token));
}

export interface MetricsServerOptions {
  /** 0 turns the server off. */
  port: number;
  host: string;
  /** When set, `/metrics` needs `Authorization: Bearer <token>`; the health endpoints stay open. */
  token?: string | undefined;
  logger: Logger;
  /** `/readyz` answers 200 when this is true. Default: always. */
  ready?: () => boolean | Promise<boolean>;
  metrics?: FusionMetrics;
}

/**
 * A worker's small HTTP server: `/metrics` (Prometheus text format), `/healthz` (the process is
 * alive) and `/readyz`. A port that cannot be bound is logged and the worker runs on without it:
 * metrics must never stop the work.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<Server | undefined> {
  if (options.port === 0) return Promise.resolve(undefined);
  const m = options.metrics ?? metrics;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return json(res, 405, { error: "method not allowed" });
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const ok = options.ready ? await options.ready() : true;
      return json(res, ok ? 200 : 503, { status: ok ? "ready" : "not ready" });
    }
    if (path === "/metrics") {
      if (!metricsAuthorized(req.headers.authorization, options.token)) {
        res.setHeader("www-authenticate", "Bearer");
        return json(res, 401, { error: "missing or invalid metrics token" });
      }
      const body = await m.registry.metrics();
      res.writeHead(200, { "content-type": m.registry.contentType });
      return res.end(body);
    }
    return json(res, 404, { error: "not found" });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.error({ err }, "metrics request failed");
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.end();
    });
  });
  return new Promise((resolve) => {
    server.once("error", (err) => {
      options.logger.error(
        { err: err.message, port: options.port },
        "metrics server cannot listen: /metrics and /healthz are off for this process",
      );
      resolve(undefined);
    });
    server.listen(options.port, options.host, () => {
      server.unref();
      options.logger.info({ port: options.port, host: options.host }, "metrics server listening");
      resolve(server);
    });
  });
}
