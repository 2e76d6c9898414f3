import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { QueueDepth, type WatchedQueue, type WatchQueuesOptions } from "./queue-depth.ts";

/**
 * Prometheus metrics shared by every service, so that the gateway and the workers use the same
 * names. Each process has one registry (`metrics`); `createMetrics()` makes a separate one for tests.
 */

/** Seconds: from a fast health probe to a ten-minute fusion. */
const durationBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** Distinct `model` label values kept per process; later ones are counted as "other". */
export const MAX_MODEL_LABELS = 200;

export type PanelOutcome = "ok" | "failed" | "cancelled";

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
  webSearchErrors: Counter<"provider" | "reason">;
  webhookDeliveries: Counter<"outcome">;
  queueJobs: Gauge<"queue" | "state">;
  queueWorkers: Gauge<"queue">;
  /** Reports the depth of these queues on every scrape (replaces any queues watched before). */
  watchQueues(queues: WatchedQueue[], options?: WatchQueuesOptions): void;
  /** A model slug as a label value, bounded to MAX_MODEL_LABELS distinct values. */
  modelLabel(model: string): string;
}

export function createMetrics(registry: Registry = new Registry()): FusionMetrics {
  const registers = [registry];
  const depth = new QueueDepth();
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
    webSearchErrors: new Counter({
      name: "fusion_web_search_errors_total",
      help: "Failed web searches (each a tool error the model read), by search provider and reason.",
      labelNames: ["provider", "reason"] as const,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: "fusion_webhook_deliveries_total",
      help: "Webhook delivery attempts by outcome: delivered (2xx), retrying (failed, another attempt follows), failed (the last attempt failed).",
      labelNames: ["outcome"] as const,
      registers,
    }),
    queueJobs: new Gauge({
      name: "fusion_queue_jobs",
      help: "Jobs per queue, queue shard and state, read from Redis when scraped.",
      labelNames: ["queue", "shard", "state"] as const,
      registers,
      async collect() {
        const snap = await depth.snapshot();
        this.reset();
        for (const { queue, shard, state, count } of snap?.jobs ?? [])
          this.set({ queue, shard, state }, count);
      },
    }),
    queueWorkers: new Gauge({
      name: "fusion_queue_workers",
      help: "Worker connections consuming each queue of each queue shard, read from Redis when scraped.",
      labelNames: ["queue", "shard"] as const,
      registers,
      async collect() {
        const snap = await depth.snapshot();
        this.reset();
        for (const { queue, shard, count } of snap?.workers ?? []) this.set({ queue, shard }, count);
      },
    }),
    watchQueues(queues, options) {
      depth.watch(queues, options);
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
