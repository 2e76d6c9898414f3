/**
 * The load generator, run as its own process so that its work does not share an event loop with what
 * it measures. Reads one JSON `LoadConfig` on stdin, fires `total` POST requests (after `warmup`
 * unrecorded ones) with at most `concurrency` in flight over one undici Agent, and writes one JSON
 * `LoadResult` line on stdout. It only targets loopback URLs, and stops by itself: no request starts
 * after `timeLimitMs`, and whatever is still open `drainMs` later is aborted and counted as unfinished.
 *
 *   echo '{"url":"http://127.0.0.1:8080/api/v1/chat/completions", ...}' | node bench/load.ts
 */
import { performance } from "node:perf_hooks";
import { Agent } from "undici";

export interface LoadConfig {
  /** Full URL to POST to; must be a loopback address. */
  url: string;
  headers?: Record<string, string>;
  /** The JSON body; every `{{i}}` is replaced by the request's index. */
  bodyTemplate: string;
  /** Read the response as SSE: first byte, first data frame, `[DONE]`, error chunks. */
  stream: boolean;
  total: number;
  concurrency: number;
  /** Requests sent (and awaited) before the measured ones, at the same concurrency; not recorded. */
  warmup?: number;
  /** No measured request starts after this long. */
  timeLimitMs: number;
  /** Requests still open this long after the time limit are aborted and counted as unfinished. Default 30 s. */
  drainMs?: number;
  /** GET this path (up to 256 times at once) before the measured phase, so that connection set-up is not measured. */
  preconnectPath?: string;
  /** Spread the first `concurrency` measured requests evenly over this many ms (a ramp, not a burst). */
  rampMs?: number;
  /** What a successful response must hold: a fusion with an analysis, or any answer. */
  expect: "fusion" | "plain";
}

export interface LoadResult {
  /** Measured requests that finished correctly. */
  ok: number;
  /** Measured requests that finished with an error (HTTP status, network, SSE error, bad body). */
  errors: number;
  /** Measured requests still open at the time limit (aborted). */
  unfinished: number;
  /** Requests never started because the time limit passed first. */
  notStarted: number;
  errorKinds: Record<string, number>;
  errorSamples: string[];
  /** Per successful request, milliseconds from send: response end. */
  e2eMs: number[];
  /** Per successful request: first body byte (for SSE: the first comment frame). */
  ttfbMs: number[];
  /** Per successful SSE request: first `data:` frame (the first token of the answer). */
  firstDataMs: number[];
  /** Wall time of the measured phase: first send to last end. */
  wallMs: number;
  /** Most requests open at once (sent, not yet ended). */
  peakInFlight: number;
  /** Most responses open at once (headers received, body not yet ended): streams held open. */
  peakOpen: number;
  /** CPU time the load generator itself used (user + system), warm-up included. */
  cpuMs: number;
}

interface One {
  ok: boolean;
  kind?: string;
  detail?: string;
  e2e: number;
  ttfb: number;
  firstData: number;
}

function assertLoopback(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!(host === "localhost" || host === "::1" || /^127\./.test(host))) {
    throw new Error(`load.ts only targets loopback addresses, not ${url.hostname}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const url = new URL(config.url);
  assertLoopback(url);
  const agent = new Agent({
    connections: config.concurrency + 8,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 120_000,
    // Our own deadline bounds every request; a fusion may legitimately stay silent for a long time.
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: 30_000,
  });
  const headers = { "content-type": "application/json", ...config.headers };
  const deadline = new AbortController();
  let inFlight = 0;
  let open = 0;
  let peakInFlight = 0;
  let peakOpen = 0;
  let measuring = false;

  const one = async (i: number): Promise<One> => {
    const body = config.bodyTemplate.replaceAll("{{i}}", String(i));
    const t0 = performance.now();
    let ttfb = Number.NaN;
    let firstData = Number.NaN;
    inFlight++;
    if (measuring) peakInFlight = Math.max(peakInFlight, inFlight);
    let opened = false;
    try {
      const res = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: "POST",
        headers,
        body,
        signal: deadline.signal,
      });
      opened = true;
      open++;
      if (measuring) peakOpen = Math.max(peakOpen, open);
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of res.body) {
        const now = performance.now();
        if (Number.isNaN(ttfb)) ttfb = now - t0;
        const piece = decoder.decode(chunk as Buffer, { stream: true });
        if (
          config.stream &&
          Number.isNaN(firstData) &&
          (piece.includes("\ndata: ") || piece.startsWith("data: "))
        ) {
          firstData = now - t0;
        }
        text += piece;
      }
      text += decoder.decode();
      const e2e = performance.now() - t0;
      if (res.statusCode !== 200) {
        return {
          ok: false,
          kind: `http_${res.statusCode}`,
          detail: text.slice(0, 300),
          e2e,
          ttfb,
          firstData,
        };
      }
      const problem = config.stream ? checkSse(text, config.expect) : checkJson(text, config.expect);
      if (problem) return { ok: false, kind: problem, detail: text.slice(-400), e2e, ttfb, firstData };
      return { ok: true, e2e, ttfb, firstData };
    } catch (err) {
      const e2e = performance.now() - t0;
      if (deadline.signal.aborted) return { ok: false, kind: "unfinished", e2e, ttfb, firstData };
      const e = err as Error & { code?: string };
      return { ok: false, kind: `network_${e.code ?? e.name}`, detail: e.message, e2e, ttfb, firstData };
    } finally {
      inFlight--;
      if (opened) open--;
    }
  };

  const pool = async (from: number, count: number, record: (r: One) => void, stopAt: number, rampMs = 0) => {
    let next = from;
    const end = from + count;
    const workers = Math.min(config.concurrency, count);
    const worker = async (w: number) => {
      if (rampMs > 0) await new Promise((r) => setTimeout(r, (w * rampMs) / workers));
      for (;;) {
        if (next >= end || performance.now() >= stopAt) return;
        const i = next++;
        record(await one(i));
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
    return end - next;
  };

  /**
   * Opens up to 256 connections right before the measured phase (after the warm-up, whose idle sockets
   * the server may have closed), all at once so that each request takes its own socket. More at once
   * would overflow a default listen queue (511): larger runs ramp their first requests instead.
   */
  const preconnect = async (path: string) => {
    await Promise.all(
      Array.from({ length: Math.min(256, config.concurrency) }, async () => {
        try {
          const res = await agent.request({ origin: url.origin, path, method: "GET" });
          await res.body.dump();
        } catch {
          // a failed pre-connect only means a cold connection later
        }
      }),
    );
  };

  const warmup = config.warmup ?? 0;
  if (warmup > 0) await pool(0, warmup, () => {}, performance.now() + config.timeLimitMs);
  if (config.preconnectPath) await preconnect(config.preconnectPath);

  const result: LoadResult = {
    ok: 0,
    errors: 0,
    unfinished: 0,
    notStarted: 0,
    errorKinds: {},
    errorSamples: [],
    e2eMs: [],
    ttfbMs: [],
    firstDataMs: [],
    wallMs: 0,
    peakInFlight: 0,
    peakOpen: 0,
    cpuMs: 0,
  };
  let lastEnd = 0;
  const record = (r: One) => {
    lastEnd = performance.now();
    if (r.ok) {
      result.ok++;
      result.e2eMs.push(r.e2e);
      if (!Number.isNaN(r.ttfb)) result.ttfbMs.push(r.ttfb);
      if (!Number.isNaN(r.firstData)) result.firstDataMs.push(r.firstData);
      return;
    }
    const kind = r.kind ?? "unknown";
    if (kind === "unfinished") result.unfinished++;
    else result.errors++;
    result.errorKinds[kind] = (result.errorKinds[kind] ?? 0) + 1;
    if (kind !== "unfinished" && result.errorSamples.length < 5) {
      result.errorSamples.push(`${kind}: ${(r.detail ?? "").replace(/\s+/g, " ").slice(0, 300)}`);
    }
  };
  measuring = true;
  const start = performance.now();
  const stopAt = start + config.timeLimitMs;
  const hardStop = setTimeout(() => deadline.abort(), config.timeLimitMs + (config.drainMs ?? 30_000));
  result.notStarted = await pool(warmup, config.total, record, stopAt, config.rampMs);
  clearTimeout(hardStop);
  result.wallMs = (lastEnd || performance.now()) - start;
  result.peakInFlight = peakInFlight;
  result.peakOpen = peakOpen;
  await agent.close().catch(() => {});
  const cpu = process.cpuUsage();
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  return result;
}

/** Why a complete SSE body is not a correct answer, or undefined when it is. */
function checkSse(text: string, expect: LoadConfig["expect"]): string | undefined {
  if (!text.trimEnd().endsWith("data: [DONE]")) return "sse_no_done";
  if (text.includes('"finish_reason":"error"')) return "sse_error_chunk";
  if (!text.includes('"content":')) return "sse_no_content";
  if (expect === "fusion" && !text.includes('"analysis":')) return "sse_no_analysis";
  return undefined;
}

function checkJson(text: string, expect: LoadConfig["expect"]): string | undefined {
  let body: { choices?: Array<{ message?: { content?: unknown } }>; fusion?: { analysis?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    return "json_invalid";
  }
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== "string" || content === "") return "json_no_content";
  if (expect === "fusion" && body.fusion?.analysis === undefined) return "json_no_analysis";
  return undefined;
}

if (import.meta.main) {
  const config = JSON.parse(await readStdin()) as LoadConfig;
  const result = await runLoad(config);
  // Writes to a pipe are asynchronous: exit only once the whole result is out.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}
