import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Processor } from "bullmq";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "../logger.ts";

/**
 * Prometheus metrics shared by every service, so that the gateway and the workers use the same
 * names. Each process has one registry (`metrics`); `createMetrics()` makes a separate one for tests.
 */

/** Seconds: from a fast health probe to a ten-minute fusion. */
const durationBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** Queue states reported by `fusion_queue_jobs`. */
export const queueStates = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "waiting-children",
  "paused",
  "completed",
  "failed",
] as const;

/** Distinct `model` label values kept per process; later ones are counted as "other". */
export const MAX_MODEL_LABELS = 200;

export type PanelOutcome = "ok" | "failed" | "cancelled";

/** What the gateway needs of a BullMQ Queue to report its depth. */
export interface QueueCountSource {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  getWorkersCount(): Promise<number>;
}

export interface WatchQueuesOptions {
  /** Counts are read from Redis at most this often; scrapes in between get the cached numbers. */
  cacheMs?: number;
  /** A scrape waits at most this long for Redis; then the queue series are left out. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface FusionMetrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route" | "status">;
  stageDuration: Histogram<"stage" | "outcome">;
  endToEnd: Histogram<"outcome" | "fused">;
  panelResults: Counter<"model" | "outcome">;
  judgeResults: Counter<"outcome">;
  judgeRepairs: Counter;
  upstreamErrors: Counter<"kind" | "status">;
  queueJobs: Gauge<"queue" | "state">;
  queueWorkers: Gauge<"queue">;
  /** Reports the depth of these queues on every scrape (replaces any queues watched before). */
  watchQueues(queues: Record<string, QueueCountSource>, options?: WatchQueuesOptions): void;
  /** A model slug as a label value, bounded to MAX_MODEL_LABELS distinct values. */
  modelLabel(model: string): string;
}

interface QueueSnapshot {
  jobs: Array<{ queue: string; state: string; count: number }>;
  workers: Array<{ queue: string; count: number }>;
}

export function createMetrics(registry: Registry = new Registry()): FusionMetrics {
  const registers = [registry];
  let watched:
    | { queues: Record<string, QueueCountSource>; cacheMs: number; timeoutMs: number; logger?: Logger }
    | undefined;
  let cached: { at: number; snapshot: Promise<QueueSnapshot | undefined> } | undefined;

  const readQueues = async (): Promise<QueueSnapshot | undefined> => {
    if (!watched) return undefined;
    const { queues, logger, timeoutMs } = watched;
    let timer: NodeJS.Timeout | undefined;
    try {
      // BullMQ waits for a connection that is down; a scrape must not, or every other metric is lost with it.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
      });
      const read = Promise.all(
        Object.entries(queues).map(async ([queue, q]) => {
          const [counts, workers] = await Promise.all([q.getJobCounts(...queueStates), q.getWorkersCount()]);
          return { queue, counts, workers };
        }),
      );
      read.catch(() => {});
      const entries = await Promise.race([read, timeout]);
      return {
        jobs: entries.flatMap(({ queue, counts }) =>
          queueStates.map((state) => ({ queue, state, count: counts[state] ?? 0 })),
        ),
        workers: entries.map(({ queue, workers }) => ({ queue, count: workers })),
      };
    } catch (err) {
      logger?.warn({ err: (err as Error).message }, "cannot read queue counts for metrics");
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };
  const snapshot = (): Promise<QueueSnapshot | undefined> => {
    const now = Date.now();
    if (!cached || now - cached.at >= (watched?.cacheMs ?? 0)) cached = { at: now, snapshot: readQueues() };
    return cached.snapshot;
  };

  const seenModels = new Set<string>();

  return {
    registry,
    httpRequests: new Counter({
      name: "fusion_http_requests_total",
      help: "HTTP requests answered by the gateway, by route, method and status.",
      labelNames: ["method", "route", "status"] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: "fusion_http_request_duration_seconds",
      help: "Time until the gateway sent the response headers (for SSE: until the stream began).",
      labelNames: ["method", "route", "status"] as const,
      buckets: durationBuckets,
      registers,
    }),
    stageDuration: new Histogram({
      name: "fusion_stage_duration_seconds",
      help: "Wall time of one run of a panel, judge or turn job, by outcome (completed, failed, waiting: a turn handing off to its panel).",
      labelNames: ["stage", "outcome"] as const,
      buckets: durationBuckets,
      registers,
    }),
    endToEnd: new Histogram({
      name: "fusion_end_to_end_duration_seconds",
      help: "From the gateway accepting a fusion request to its turn job finishing, by outcome and whether the panel ran.",
      labelNames: ["outcome", "fused"] as const,
      buckets: durationBuckets,
      registers,
    }),
    panelResults: new Counter({
      name: "fusion_panel_results_total",
      help: "Panel model runs by model and outcome (ok, failed, cancelled).",
      labelNames: ["model", "outcome"] as const,
      registers,
    }),
    judgeResults: new Counter({
      name: "fusion_judge_results_total",
      help: "Judge jobs by outcome (ok, no_analysis, all_panels_failed, rate_limited, cancelled).",
      labelNames: ["outcome"] as const,
      registers,
    }),
    judgeRepairs: new Counter({
      name: "fusion_judge_repairs_total",
      help: "Judge answers whose JSON was unusable, so that the judge was asked once for a repair.",
      registers,
    }),
    upstreamErrors: new Counter({
      name: "fusion_upstream_errors_total",
      help: "Failed upstream calls (every attempt, retried or not), by kind and HTTP status.",
      labelNames: ["kind", "status"] as const,
      registers,
    }),
    queueJobs: new Gauge({
      name: "fusion_queue_jobs",
      help: "Jobs per queue and state, read from Redis when scraped.",
      labelNames: ["queue", "state"] as const,
      registers,
      async collect() {
        const snap = await snapshot();
        this.reset();
        for (const { queue, state, count } of snap?.jobs ?? []) this.set({ queue, state }, count);
      },
    }),
    queueWorkers: new Gauge({
      name: "fusion_queue_workers",
      help: "Worker connections consuming each queue, read from Redis when scraped.",
      labelNames: ["queue"] as const,
      registers,
      async collect() {
        const snap = await snapshot();
        this.reset();
        for (const { queue, count } of snap?.workers ?? []) this.set({ queue }, count);
      },
    }),
    watchQueues(queues, options = {}) {
      watched = {
        queues,
        cacheMs: options.cacheMs ?? 2000,
        timeoutMs: options.timeoutMs ?? 2000,
        ...(options.logger ? { logger: options.logger } : {}),
      };
      cached = undefined;
    },
    modelLabel(model) {
      if (seenModels.has(model)) return model;
      if (seenModels.size >= MAX_MODEL_LABELS) return "other";
      seenModels.add(model);
      return model;
    },
  };
}

/** The registry and metrics of this process. */
export const metrics: FusionMetrics = createMetrics();

const initialised = new WeakSet<Registry>();

/** Labels every series with the service and adds Node's process metrics (once per registry). */
export function initMetrics(service: string, m: FusionMetrics = metrics): void {
  if (initialised.has(m.registry)) return;
  initialised.add(m.registry);
  m.registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: m.registry });
}

/** Counts a panelist's result by model and outcome; returns the result unchanged. */
export function recordPanelResult<T extends { model: string; status: PanelOutcome }>(
  result: T,
  m: FusionMetrics = metrics,
): T {
  m.panelResults.inc({ model: m.modelLabel(result.model), outcome: result.status });
  return result;
}

/** Counts a judge job by what its result says; returns the result unchanged. */
export function recordJudgeResult<
  T extends { cancelled?: boolean; result: { status: string; failure_reason?: string; analysis?: unknown } },
>(judged: T, m: FusionMetrics = metrics): T {
  const { result } = judged;
  const outcome = judged.cancelled
    ? "cancelled"
    : result.status === "error"
      ? (result.failure_reason ?? "error")
      : result.analysis === undefined
        ? "no_analysis"
        : "ok";
  m.judgeResults.inc({ outcome });
  return judged;
}

/** Counts a failed upstream call. Calls the caller aborted (a cancelled fusion) are not errors. */
export function recordUpstreamError(
  err: { kind: string; status?: number },
  m: FusionMetrics = metrics,
): void {
  if (err.kind === "aborted") return;
  m.upstreamErrors.inc({ kind: err.kind, status: err.status === undefined ? "none" : String(err.status) });
}

const suspensions = new Set(["WaitingChildrenError", "WaitingError", "DelayedError"]);

/** Times every run of a job processor as `fusion_stage_duration_seconds{stage}`. */
export function instrumentProcessor<D, R>(
  stage: string,
  processor: Processor<D, R>,
  m: FusionMetrics = metrics,
): Processor<D, R> {
  return async (job, token, signal) => {
    const end = m.stageDuration.startTimer({ stage });
    try {
      const result = await processor(job, token, signal);
      end({ outcome: "completed" });
      return result;
    } catch (err) {
      end({ outcome: suspensions.has((err as Error | undefined)?.name ?? "") ? "waiting" : "failed" });
      throw err;
    }
  };
}

/** Observes a finished turn job: `createdAt` is when the gateway accepted the request. */
export function observeFusionFinished(
  data: unknown,
  finishedAt: number,
  outcome: "completed" | "failed",
  m: FusionMetrics = metrics,
): void {
  const turn = (data ?? {}) as { createdAt?: unknown; decision?: unknown };
  if (typeof turn.createdAt !== "number") return;
  m.endToEnd.observe(
    { outcome, fused: turn.decision ? "true" : "false" },
    Math.max(0, finishedAt - turn.createdAt) / 1000,
  );
}

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
