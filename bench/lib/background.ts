/**
 * The `background` scenario's background work: a batch of fusions submitted through the OpenAI Batch
 * API (`POST /v1/files`, `POST /v1/batches`, polled with `GET /v1/batches/{id}`), or as many async
 * fusions (`Prefer: respond-async`), or (the control, `besideHeld`) as many interactive requests held
 * open, the same work at the same priority as the measured fusions. Each runs while
 * `measureInteractive` measures interactive fusions beside it. When each background fusion ended is
 * read from its event stream (the id of its last entry is its time in ms), so the result tells how
 * many had ended when the measurement started and when it ended, and when the last one did.
 */
import { keys } from "@fusion/runtime";
import type { Redis } from "ioredis";
import type { BackgroundRun, RunRecord } from "../report.ts";
import { fusionBody } from "./workload.ts";

export interface BackgroundContext {
  /** The gateway, e.g. `http://127.0.0.1:4000`. */
  baseUrl: string;
  apiKey: string;
  /** The stack's Redis: the fusions' event streams. */
  redis: Redis;
  /** The ids of the fusions a batch's lines start (derived from the batch id and line index). */
  batchFusionIds(batchId: string, lines: number): string[];
  /**
   * Measures the interactive fusions (the load generator) and returns their record; `warmup` requests
   * first, unrecorded. Beside background work there is none: a wait behind it must be measured.
   */
  measureInteractive(label: string, warmup: number): Promise<RunRecord>;
  log(line: string): void;
  /** Background fusions ended before the interactive measurement starts (the work has warmed up). */
  warmFusions: number;
  /** Longest the background work may take in all before the scenario fails. */
  timeoutMs: number;
}

const TERMINAL_BATCH = new Set(["completed", "failed", "expired", "cancelled"]);

interface BatchObject {
  id: string;
  status: string;
  request_counts?: { total: number; completed: number; failed: number };
}

async function api<T>(ctx: BackgroundContext, method: string, path: string, body?: unknown): Promise<T> {
  const json = body !== undefined && !(body instanceof FormData);
  const res = await fetch(`${ctx.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ctx.apiKey}`,
      ...(json ? { "content-type": "application/json" } : {}),
    },
    ...(body === undefined ? {} : { body: json ? JSON.stringify(body) : (body as FormData) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** The bench's usual fusion as `count` batch request lines (JSONL), each with its own question. */
function batchInput(count: number): string {
  const template = JSON.stringify(fusionBody(false));
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.parse(template.replaceAll("{{i}}", `batch-${i}`)) as unknown;
    lines.push(JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body }));
  }
  return `${lines.join("\n")}\n`;
}

async function until<T>(what: string, ms: number, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** When each fusion ended (epoch ms of its terminal entry, `final` or `error`); undefined while it runs. */
async function endTimes(redis: Redis, ids: string[]): Promise<Array<number | undefined>> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.xrevrange(keys.events(id), "+", "-", "COUNT", 1);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([, entries]) => {
    const [entry] = (entries as Array<[string, string[]]> | null) ?? [];
    if (!entry) return undefined;
    const [id, fields] = entry;
    const type = fields[fields.indexOf("t") + 1];
    return type === "final" || type === "error" ? Number(id.split("-")[0]) : undefined;
  });
}

const ended = (times: Array<number | undefined>) => times.filter((t) => t !== undefined).length;

/**
 * Measures the interactive fusions once `warmFusions` background fusions have ended, waits for all
 * of them to end, and places the measurement on the background's timeline. `ends` tells when each
 * background fusion ended (epoch ms; undefined while it runs).
 */
async function measureBeside(
  ctx: BackgroundContext,
  run: {
    kind: BackgroundRun["kind"];
    label: string;
    startedAt: number;
    ends: () => Promise<Array<number | undefined>>;
  },
): Promise<Omit<BackgroundRun, "outcome">> {
  await until(`${run.kind} warm-up`, ctx.timeoutMs, run.ends, (t) => ended(t) >= ctx.warmFusions);
  const windowStart = Date.now();
  const record = await ctx.measureInteractive(`interactive beside ${run.label}`, 0);
  const windowEnd = Date.now();
  const times = await until(`${run.kind} end`, ctx.timeoutMs, run.ends, (t) => ended(t) === t.length);
  const ends = times.filter((t) => t !== undefined);
  return {
    kind: run.kind,
    fusions: times.length,
    record,
    doneAtStart: ends.filter((t) => t < windowStart).length,
    doneAtEnd: ends.filter((t) => t <= windowEnd).length,
    windowMs: [windowStart - run.startedAt, windowEnd - run.startedAt],
    durationMs: Math.max(...ends) - run.startedAt,
  };
}

/** A batch of `lines` fusions through the Batch API, with the interactive fusions measured beside it. */
export async function besideBatch(ctx: BackgroundContext, lines: number): Promise<BackgroundRun> {
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", new Blob([batchInput(lines)], { type: "application/jsonl" }), "background.jsonl");
  const startedAt = Date.now();
  const file = await api<{ id: string }>(ctx, "POST", "/v1/files", form);
  const created = await api<BatchObject>(ctx, "POST", "/v1/batches", {
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
  ctx.log(`background: batch ${created.id} of ${lines} fusion lines submitted`);
  const run = await measureBeside(ctx, {
    kind: "batch",
    label: `a ${lines}-line batch`,
    startedAt,
    ends: () => endTimes(ctx.redis, ctx.batchFusionIds(created.id, lines)),
  });
  const read = () => api<BatchObject>(ctx, "GET", `/v1/batches/${created.id}`);
  const done = await until("batch end", ctx.timeoutMs, read, (b) => TERMINAL_BATCH.has(b.status));
  const batchMs = Date.now() - startedAt;
  const counts = done.request_counts;
  ctx.log(
    `background: batch ${done.status} after ${(batchMs / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`,
  );
  return {
    ...run,
    outcome: `batch ${done.status} (status seen ${(batchMs / 1000).toFixed(1)} s after the upload), ${counts?.completed ?? 0} lines completed, ${counts?.failed ?? 0} failed`,
  };
}

/** `count` async fusions (202 at once), with the interactive fusions measured beside them. */
export async function besideAsync(ctx: BackgroundContext, count: number): Promise<BackgroundRun> {
  const template = JSON.stringify(fusionBody(false));
  const startedAt = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const accepted = await Promise.all(
      Array.from({ length: Math.min(25, count - i) }, async (_, k) => {
        const res = await fetch(`${ctx.baseUrl}/api/v1/chat/completions`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${ctx.apiKey}`,
            "content-type": "application/json",
            prefer: "respond-async",
          },
          body: template.replaceAll("{{i}}", `async-${i + k}`),
          signal: AbortSignal.timeout(60_000),
        });
        const text = await res.text();
        if (res.status !== 202) throw new Error(`async fusion answered ${res.status}: ${text.slice(0, 300)}`);
        return (JSON.parse(text) as { id: string }).id;
      }),
    );
    ids.push(...accepted);
  }
  const acceptedMs = Date.now() - startedAt;
  ctx.log(`background: ${count} async fusions accepted in ${(acceptedMs / 1000).toFixed(1)} s`);
  const run = await measureBeside(ctx, {
    kind: "async",
    label: `${count} async fusions`,
    startedAt,
    ends: () => endTimes(ctx.redis, ids),
  });
  const failed = await failedOf(ctx, ids);
  return {
    ...run,
    outcome: `accepted in ${(acceptedMs / 1000).toFixed(1)} s; ${count - failed} completed, ${failed} failed`,
  };
}

/** Fusions of `ids` whose stream ended with an error (failed or cancelled). */
async function failedOf(ctx: BackgroundContext, ids: string[]): Promise<number> {
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.xrevrange(keys.events(id), "+", "-", "COUNT", 1);
  const replies = (await pipeline.exec()) ?? [];
  return replies.filter(([, entries]) => {
    const fields = (entries as Array<[string, string[]]> | null)?.[0]?.[1] ?? [];
    return fields[fields.indexOf("t") + 1] === "error";
  }).length;
}

/**
 * The control: the same `count` fusions sent as interactive requests held open (not streaming, not
 * async), so that they share the queues with the measured fusions at the same priority.
 */
export async function besideHeld(ctx: BackgroundContext, count: number): Promise<BackgroundRun> {
  const template = JSON.stringify(fusionBody(false));
  const startedAt = Date.now();
  // When each response ended (its fusion's end, seen by its client).
  const ends: Array<number | undefined> = new Array(count).fill(undefined);
  let failed = 0;
  const held = Array.from({ length: count }, async (_, i) => {
    try {
      const res = await fetch(`${ctx.baseUrl}/api/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${ctx.apiKey}`, "content-type": "application/json" },
        body: template.replaceAll("{{i}}", `held-${i}`),
        signal: AbortSignal.timeout(ctx.timeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('"analysis"')) failed++;
    } catch {
      failed++;
    } finally {
      ends[i] = Date.now();
    }
  });
  ctx.log(`background: ${count} interactive fusions held open`);
  const run = await measureBeside(ctx, {
    kind: "held",
    label: `${count} held interactive fusions`,
    startedAt,
    ends: async () => ends,
  });
  await Promise.all(held);
  return { ...run, outcome: `${count - failed} completed, ${failed} failed` };
}
