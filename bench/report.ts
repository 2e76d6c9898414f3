/**
 * Renders a bench run (the JSON that run.ts writes to bench/results/) as one table: our figures and
 * the in-process baseline side by side, with ratios and the targets. Also usable on its own:
 *
 *   node bench/report.ts bench/results/<run>.json [--markdown]
 */
import { readFileSync } from "node:fs";
import type { CommandStat } from "./lib/probes.ts";
import type { Summary } from "./lib/stats.ts";

export interface RunRecord {
  system: "fusion" | "baseline" | "direct";
  label: string;
  stream: boolean;
  total: number;
  concurrency: number;
  warmup: number;
  ok: number;
  errors: number;
  unfinished: number;
  notStarted: number;
  errorKinds: Record<string, number>;
  errorSamples: string[];
  e2e: Summary;
  ttfb: Summary;
  firstData: Summary;
  wallMs: number;
  /** Successful requests per second over the measured phase. */
  throughput: number;
  peakOpen: number;
  peakInFlight: number;
  /** CPU milliseconds each process used during the run (warm-up included), and per request sent. */
  cpuMs: Record<string, number>;
  cpuMsPerRequest: Record<string, number>;
  /** Largest RSS sampled during the run, MiB. */
  peakRssMiB: Record<string, number>;
  /** CPU the rest of the machine used during the run (other people's work), in cores on average. */
  foreignCores?: number;
  /** Chat-completions calls the simulator received per request sent (warm-up included): 8 per fusion. */
  upstreamCallsPerRequest?: number;
  upstreamCallsByRole?: Record<string, number>;
  redis?: {
    usedBeforeMiB: number;
    usedPeakMiB: number;
    usedAfterMiB: number;
    /** Bytes sent to and read from Redis per request (INFO stats; includes the bench's own probes). */
    bytesInPerRequest?: number;
    bytesOutPerRequest?: number;
    commands: CommandStat[];
  };
}

export interface BenchResults {
  runId: string;
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  machine: Record<string, string | number>;
  settings: Record<string, unknown>;
  /** The simulated critical path of one fusion per scenario, ms. */
  criticalPathMs: Record<string, number>;
  scenarios: {
    overhead?: {
      latencyMs: number;
      levels: Array<{ concurrency: number; fusion?: RunRecord; baseline?: RunRecord }>;
      /** Median ms per phase of sequential fusions, by system (see run.ts phaseBreakdown). */
      breakdown?: Record<string, Record<string, number>>;
    };
    throughput?: {
      nonStreaming: { fusion?: RunRecord; baseline?: RunRecord };
      streaming: { fusion?: RunRecord; baseline?: RunRecord };
    };
    concurrency?: { latencyMs: number; fusion?: RunRecord; baseline?: RunRecord };
    passthrough?: Array<{ label: string; direct?: RunRecord; gateway?: RunRecord }>;
  };
  profiles?: Record<string, string>;
  notes: string[];
}

type Row = [
  scenario: string,
  metric: string,
  ours: string,
  baseline: string,
  ratio: string,
  target: string,
  met: string,
];

const HEADER: Row = [
  "Scenario",
  "Metric",
  "Fusion (services)",
  "Baseline (in-process)",
  "Ratio",
  "Target",
  "Met",
];

const ms = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? "–" : v >= 100 ? v.toFixed(0) : v.toFixed(1);
const pair = (a: number | undefined, b: number | undefined) => `${ms(a)} / ${ms(b)}`;
const num = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "–";
  return `${(a / b).toFixed(2)}×`;
}
const met = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? "yes" : "NO");
/** Failed requests (errors, and requests still open when the run was cut) over those started. */
function errorsOf(r: RunRecord | undefined): string {
  if (!r) return "–";
  const started = r.total - r.notStarted;
  const failed = r.errors + r.unfinished;
  const cut = r.notStarted ? `; ${r.notStarted} not started (time limit)` : "";
  return `${failed}/${started} (${num((failed / Math.max(1, started)) * 100, 2)}%)${cut}`;
}

function tableRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  const s = results.scenarios;

  if (s.overhead) {
    const cp = results.criticalPathMs.overhead ?? 0;
    for (const level of s.overhead.levels) {
      const f = level.fusion;
      const b = level.baseline;
      const name = `1. Overhead c=${level.concurrency}`;
      const target50 = level.concurrency === 50;
      const fo50 = f ? f.e2e.p50 - cp : undefined;
      const fo99 = f ? f.e2e.p99 - cp : undefined;
      const bo50 = b ? b.e2e.p50 - cp : undefined;
      const bo99 = b ? b.e2e.p99 - cp : undefined;
      rows.push([
        name,
        `e2e p50 / p99 ms (critical path ${ms(cp)})`,
        pair(f?.e2e.p50, f?.e2e.p99),
        pair(b?.e2e.p50, b?.e2e.p99),
        ratio(f?.e2e.p50, b?.e2e.p50),
        "",
        "",
      ]);
      rows.push([
        name,
        "overhead p50 ms (e2e − critical path)",
        ms(fo50),
        ms(bo50),
        ratio(fo50, bo50),
        target50 ? "≤ 10" : "",
        target50 && fo50 !== undefined ? met(fo50 <= 10) : "",
      ]);
      rows.push([
        name,
        "overhead p99 ms",
        ms(fo99),
        ms(bo99),
        ratio(fo99, bo99),
        target50 ? "≤ 30" : "",
        target50 && fo99 !== undefined ? met(fo99 <= 30) : "",
      ]);
      rows.push([
        name,
        "added by the services p50 / p99 ms (vs baseline)",
        f && b ? pair(f.e2e.p50 - b.e2e.p50, f.e2e.p99 - b.e2e.p99) : "–",
        "0",
        "",
        "",
        "",
      ]);
      rows.push([name, "errors", errorsOf(f), errorsOf(b), "", "", ""]);
    }
  }

  if (s.throughput) {
    for (const [label, pairOf, target] of [
      ["non-streaming", s.throughput.nonStreaming, true],
      ["streaming", s.throughput.streaming, false],
    ] as const) {
      const f = pairOf.fusion;
      const b = pairOf.baseline;
      const name = `2. Throughput ${label}`;
      const conc = f?.concurrency ?? b?.concurrency;
      rows.push([
        name,
        `fusions/s (L=0, ${conc} in flight)`,
        num(f?.throughput, 1),
        num(b?.throughput, 1),
        ratio(f?.throughput, b?.throughput),
        target ? "≥ 300" : "",
        target && f ? met(f.throughput >= 300) : "",
      ]);
      rows.push([
        name,
        "e2e p50 / p99 ms at that load",
        pair(f?.e2e.p50, f?.e2e.p99),
        pair(b?.e2e.p50, b?.e2e.p99),
        ratio(f?.e2e.p50, b?.e2e.p50),
        "",
        "",
      ]);
      const fc = f ? sum(Object.values(f.cpuMsPerRequest)) : undefined;
      const bc = b ? sum(Object.values(b.cpuMsPerRequest)) : undefined;
      rows.push([name, "CPU ms per fusion, all processes", num(fc, 2), num(bc, 2), ratio(fc, bc), "", ""]);
      // Independent of what else ran on the machine: the rate both cores could sustain at this CPU cost.
      const cap = (c: number | undefined) => (c ? 2000 / c : undefined);
      rows.push([
        name,
        "capacity on 2 idle cores, fusions/s (2000 ÷ CPU ms)",
        num(cap(fc), 0),
        num(cap(bc), 0),
        ratio(cap(fc), cap(bc)),
        target ? "≥ 300" : "",
        target && fc ? met((cap(fc) ?? 0) >= 300) : "",
      ]);
      rows.push([
        name,
        "upstream calls per fusion (8 expected)",
        num(f?.upstreamCallsPerRequest, 2),
        num(b?.upstreamCallsPerRequest, 2),
        "",
        "",
        "",
      ]);
      rows.push([name, "errors", errorsOf(f), errorsOf(b), "", "", ""]);
    }
  }

  if (s.concurrency) {
    const f = s.concurrency.fusion;
    const b = s.concurrency.baseline;
    const name = `3. Concurrency (L=${s.concurrency.latencyMs} ms)`;
    const cp = results.criticalPathMs.concurrency ?? 0;
    const target = f?.total ?? b?.total ?? 0;
    const fErr = f ? f.errors + f.unfinished : undefined;
    rows.push([
      name,
      "streams held open at once (peak)",
      num(f?.peakOpen),
      num(b?.peakOpen),
      ratio(f?.peakOpen, b?.peakOpen),
      "≥ 2000",
      f ? met(f.peakOpen >= 2000) : "",
    ]);
    rows.push([
      name,
      "errors (rate)",
      errorsOf(f),
      errorsOf(b),
      "",
      "0",
      fErr !== undefined ? met(fErr === 0) : "",
    ]);
    rows.push([
      name,
      `e2e p50 / p99 ms (critical path ${ms(cp)})`,
      pair(f?.e2e.p50, f?.e2e.p99),
      pair(b?.e2e.p50, b?.e2e.p99),
      ratio(f?.e2e.p50, b?.e2e.p50),
      "",
      "",
    ]);
    rows.push([
      name,
      "first SSE byte p50 / p99 ms",
      pair(f?.ttfb.p50, f?.ttfb.p99),
      pair(b?.ttfb.p50, b?.ttfb.p99),
      ratio(f?.ttfb.p99, b?.ttfb.p99),
      "",
      "",
    ]);
    rows.push([
      name,
      "upstream calls per fusion (8 expected)",
      num(f?.upstreamCallsPerRequest, 2),
      num(b?.upstreamCallsPerRequest, 2),
      "",
      "",
      "",
    ]);
    const mem = (r: RunRecord | undefined, key: string) => r?.peakRssMiB[key];
    rows.push([name, "peak RSS MiB: gateway", num(mem(f, "gateway")), num(mem(b, "baseline")), "", "", ""]);
    rows.push([name, "peak RSS MiB: panel-worker", num(mem(f, "panel-worker")), "", "", "", ""]);
    rows.push([name, "peak RSS MiB: judge-worker", num(mem(f, "judge-worker")), "", "", "", ""]);
    const services = f
      ? sum(["gateway", "panel-worker", "judge-worker"].map((k) => mem(f, k) ?? 0))
      : undefined;
    rows.push([
      name,
      "peak RSS MiB: services total (baseline: its one process)",
      num(services),
      num(mem(b, "baseline")),
      ratio(services, mem(b, "baseline")),
      "",
      "",
    ]);
    rows.push([
      name,
      "Redis used_memory MiB: before / peak",
      f?.redis ? `${num(f.redis.usedBeforeMiB, 1)} / ${num(f.redis.usedPeakMiB, 1)}` : "–",
      "n/a",
      "",
      "",
      "",
    ]);
    if (f && target)
      rows.push([name, "streams requested", String(target), String(b?.total ?? "–"), "", "", ""]);
  }

  if (s.overhead) {
    for (const level of s.overhead.levels) {
      const f = level.fusion;
      const b = level.baseline;
      const target = level.concurrency === 50;
      rows.push([
        `4. First SSE byte c=${level.concurrency}`,
        "p50 / p99 ms",
        pair(f?.ttfb.p50, f?.ttfb.p99),
        pair(b?.ttfb.p50, b?.ttfb.p99),
        ratio(f?.ttfb.p99, b?.ttfb.p99),
        target ? "p99 ≤ 50" : "",
        target && f ? met(f.ttfb.p99 <= 50) : "",
      ]);
    }
  }
  if (s.throughput?.streaming.fusion || s.throughput?.streaming.baseline) {
    const f = s.throughput.streaming.fusion;
    const b = s.throughput.streaming.baseline;
    rows.push([
      `4. First SSE byte, throughput load`,
      "p50 / p99 ms",
      pair(f?.ttfb.p50, f?.ttfb.p99),
      pair(b?.ttfb.p50, b?.ttfb.p99),
      ratio(f?.ttfb.p99, b?.ttfb.p99),
      "",
      "",
    ]);
  }

  if (s.passthrough) {
    for (const p of s.passthrough) {
      const g = p.gateway;
      const d = p.direct;
      const name = `5. Pass-through ${p.label}`;
      const added = g && d ? g.e2e.p50 - d.e2e.p50 : undefined;
      const target = p.label.startsWith("non-streaming c=1");
      rows.push([
        name,
        "e2e p50 / p99 ms (baseline: simulator direct)",
        pair(g?.e2e.p50, g?.e2e.p99),
        pair(d?.e2e.p50, d?.e2e.p99),
        ratio(g?.e2e.p50, d?.e2e.p50),
        "",
        "",
      ]);
      rows.push([
        name,
        "added by the gateway p50 / p99 ms",
        g && d ? pair(added, g.e2e.p99 - d.e2e.p99) : "–",
        "0",
        "",
        target ? "p50 ≤ 1.5" : "",
        target && added !== undefined ? met(added <= 1.5) : "",
      ]);
      if ((g?.errors ?? 0) + (d?.errors ?? 0) > 0)
        rows.push([name, "errors", errorsOf(g), errorsOf(d), "", "", ""]);
    }
  }
  return rows;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function renderText(rows: Row[]): string {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: Row) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd();
  const sep = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(HEADER), sep, ...rows.map(line)].join("\n");
}

function renderMarkdown(rows: Row[]): string {
  const esc = (c: string) => c.replaceAll("|", "\\|");
  return [
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map(() => " --- ").join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** CPU per request by process, Redis commands and memory: where the time and bytes go. */
function renderDetails(results: BenchResults): string {
  const out: string[] = [];
  const cpuLine = (r: RunRecord | undefined) =>
    r
      ? Object.entries(r.cpuMsPerRequest)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(", ")
      : "–";
  const b = results.scenarios.overhead?.breakdown;
  if (b) {
    const f = b.fusion ?? {};
    const base = b.baseline ?? {};
    const keys = [...new Set([...Object.keys(f), ...Object.keys(base)])];
    const width = Math.max(...keys.map((k) => k.length));
    out.push(
      `Where the time of one fusion goes (sequential, L=${results.scenarios.overhead?.latencyMs} ms, medians, ms):`,
    );
    out.push(`  ${"phase".padEnd(width)}  ${"fusion".padStart(8)}  ${"baseline".padStart(8)}`);
    for (const k of keys)
      out.push(`  ${k.padEnd(width)}  ${ms(f[k]).padStart(8)}  ${ms(base[k]).padStart(8)}`);
    out.push("");
  }
  const t = results.scenarios.throughput;
  if (t) {
    out.push("CPU ms per fusion by process (throughput, non-streaming):");
    out.push(`  fusion:   ${cpuLine(t.nonStreaming.fusion)}`);
    out.push(`  baseline: ${cpuLine(t.nonStreaming.baseline)}`);
    out.push("CPU ms per fusion by process (throughput, streaming):");
    out.push(`  fusion:   ${cpuLine(t.streaming.fusion)}`);
    out.push(`  baseline: ${cpuLine(t.streaming.baseline)}`);
    const commands = t.nonStreaming.fusion?.redis?.commands;
    const fusions = t.nonStreaming.fusion ? t.nonStreaming.fusion.warmup + t.nonStreaming.fusion.total : 0;
    if (commands?.length) {
      out.push("");
      out.push(
        `Redis INFO commandstats, throughput non-streaming run (${fusions} fusions, warm-up included), top by total time:`,
      );
      out.push("  command                      calls   calls/fusion   total ms   µs/call");
      for (const c of commands.slice(0, 15)) {
        out.push(
          `  ${c.command.padEnd(26)} ${String(c.calls).padStart(8)} ${(c.calls / Math.max(1, fusions)).toFixed(2).padStart(14)} ${(c.usec / 1000).toFixed(1).padStart(10)} ${(c.usec / Math.max(1, c.calls)).toFixed(1).padStart(9)}`,
        );
      }
      const total = commands.reduce((a, c) => a + c.calls, 0);
      out.push(`  all commands: ${total} calls, ${(total / Math.max(1, fusions)).toFixed(1)} per fusion`);
      const r = t.nonStreaming.fusion?.redis;
      if (r?.bytesInPerRequest !== undefined) {
        out.push(
          `  bytes per fusion: ${(r.bytesInPerRequest / 1024).toFixed(1)} KiB written to Redis, ${((r.bytesOutPerRequest ?? 0) / 1024).toFixed(1)} KiB read from it`,
        );
      }
    }
    const s = t.streaming.fusion?.redis?.commands;
    const sf = t.streaming.fusion ? t.streaming.fusion.warmup + t.streaming.fusion.total : 0;
    if (s?.length) {
      const total = s.reduce((a, c) => a + c.calls, 0);
      out.push(
        `Redis, throughput streaming run: ${total} calls, ${(total / Math.max(1, sf)).toFixed(1)} per fusion; top: ${s
          .slice(0, 6)
          .map((c) => `${c.command} ${(c.calls / Math.max(1, sf)).toFixed(1)}/fusion`)
          .join(", ")}`,
      );
    }
  }
  const c = results.scenarios.concurrency;
  if (c?.fusion) {
    out.push("");
    out.push(
      `Concurrency run peak RSS MiB: ${Object.entries(c.fusion.peakRssMiB)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(", ")}${
        c.baseline
          ? `; baseline run: ${Object.entries(c.baseline.peakRssMiB)
              .map(([k, v]) => `${k} ${v.toFixed(0)}`)
              .join(", ")}`
          : ""
      }`,
    );
  }
  const errors: string[] = [];
  const visit = (label: string, r: RunRecord | undefined) => {
    if (r && (r.errors || r.unfinished || r.notStarted)) {
      errors.push(
        `  ${label} [${r.system}]: errors ${r.errors}, unfinished ${r.unfinished}, not started ${r.notStarted}; ${JSON.stringify(r.errorKinds)} ${r.errorSamples.slice(0, 2).join(" | ")}`,
      );
    }
  };
  const s = results.scenarios;
  for (const l of s.overhead?.levels ?? []) {
    visit(`overhead c=${l.concurrency}`, l.fusion);
    visit(`overhead c=${l.concurrency}`, l.baseline);
  }
  visit("throughput non-streaming", s.throughput?.nonStreaming.fusion);
  visit("throughput non-streaming", s.throughput?.nonStreaming.baseline);
  visit("throughput streaming", s.throughput?.streaming.fusion);
  visit("throughput streaming", s.throughput?.streaming.baseline);
  visit("concurrency", s.concurrency?.fusion);
  visit("concurrency", s.concurrency?.baseline);
  for (const p of s.passthrough ?? []) {
    visit(`pass-through ${p.label}`, p.gateway);
    visit(`pass-through ${p.label}`, p.direct);
  }
  if (errors.length) out.push("", "Errors:", ...errors);
  const foreign: string[] = [];
  const note = (label: string, r: RunRecord | undefined) => {
    if (r?.foreignCores !== undefined && Number.isFinite(r.foreignCores))
      foreign.push(`${label} ${r.foreignCores.toFixed(2)}`);
  };
  for (const l of s.overhead?.levels ?? []) {
    note(`overhead c=${l.concurrency} fusion`, l.fusion);
    note(`baseline`, l.baseline);
  }
  note("throughput fusion", s.throughput?.nonStreaming.fusion);
  note("baseline", s.throughput?.nonStreaming.baseline);
  note("streaming fusion", s.throughput?.streaming.fusion);
  note("baseline", s.throughput?.streaming.baseline);
  note("concurrency fusion", s.concurrency?.fusion);
  note("baseline", s.concurrency?.baseline);
  for (const p of s.passthrough ?? []) {
    note(`pass-through ${p.label} gateway`, p.gateway);
    note("direct", p.direct);
  }
  if (foreign.length) {
    out.push("", "Other processes on the machine during each run (CPU cores used on average, of 2):");
    out.push(`  ${foreign.join(", ")}`);
  }
  if (results.notes.length) out.push("", "Notes:", ...results.notes.map((n) => `  - ${n}`));
  return out.join("\n");
}

export function renderReport(results: BenchResults, markdown = false): string {
  const rows = tableRows(results);
  const m = results.machine;
  const head = `Fusion bench ${results.runId}${results.quick ? " (--quick)" : ""}: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Redis ${m.redis}, load ${m.loadAvgAtStart} at start`;
  return [head, "", markdown ? renderMarkdown(rows) : renderText(rows), "", renderDetails(results)].join(
    "\n",
  );
}

if (import.meta.main) {
  const [file, flag] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node bench/report.ts bench/results/<run>.json [--markdown]\n");
    process.exit(2);
  }
  const results = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
  process.stdout.write(`${renderReport(results, flag === "--markdown")}\n`);
}
