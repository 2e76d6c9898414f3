/**
 * Renders a bench run (the JSON that run.ts writes to bench/results/) as one table: our figures and
 * the in-process baseline side by side, with ratios and the targets. Also usable on its own:
 *
 *   node bench/report.ts bench/results/<run>.json [--markdown]
 */
import { readFileSync } from "node:fs";
import type { MonitorCounts } from "./lib/monitor-counts.ts";
import type { CommandStat } from "./lib/probes.ts";
import type { Summary } from "./lib/stats.ts";

export interface RunRecord {
  system: "fusion" | "baseline" | "floor" | "direct";
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
    /** Commands Redis ran per request (INFO commandstats, inside scripts and MULTIs included; the bench's probes excluded). */
    commandsPerRequest?: number;
    /** Script calls (EVALSHA, EVAL, FCALL and read-only forms) per request. */
    scriptsPerRequest?: number;
    commands: CommandStat[];
  };
  /** RSS of each process just before the run, MiB (the concurrency10k scenario). */
  idleRssMiB?: Record<string, number>;
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
      levels: Array<{ concurrency: number; fusion?: RunRecord; baseline?: RunRecord; floor?: RunRecord }>;
      /** Median ms per phase of sequential fusions, by system (see run.ts phaseBreakdown). */
      breakdown?: Record<string, Record<string, number>>;
    };
    throughput?: {
      nonStreaming: { fusion?: RunRecord; baseline?: RunRecord; floor?: RunRecord };
      streaming: { fusion?: RunRecord; baseline?: RunRecord; floor?: RunRecord };
    };
    concurrency?: { latencyMs: number; fusion?: RunRecord; baseline?: RunRecord; floor?: RunRecord };
    concurrency10k?: {
      latencyMs: number;
      upstreamConnections: number;
      fusion?: RunRecord;
      baseline?: RunRecord;
      floor?: RunRecord;
    };
    /** MONITOR capture of a few fusions at c=1, by stage; non-streaming and streaming. */
    counts?: { nonStreaming?: MonitorCounts; streaming?: MonitorCounts };
    shards?: Array<{
      shards: number;
      record: RunRecord;
      /** Commands each master ran over the run (INFO commandstats delta), by port. */
      commandsByMaster: Record<string, number>;
      scriptsByMaster: Record<string, number>;
      /** Whether the services accepted QUEUE_SHARDS (readyz or logs), as far as the bench can tell. */
      note?: string;
    }>;
    passthrough?: Array<{ label: string; direct?: RunRecord; gateway?: RunRecord }>;
    /** Interactive fusions on an idle stack, then beside background work (see lib/background.ts). */
    background?: {
      latencyMs: number;
      /** The services' PANEL_, JUDGE_ and TURN_CONCURRENCY in this scenario. */
      workerConcurrency?: Record<string, string>;
      idle?: RunRecord;
      idleAfter?: RunRecord;
      runs: BackgroundRun[];
    };
  };
  profiles?: Record<string, string>;
  notes: string[];
}

/** Interactive fusions measured beside background work: a batch or async fusions. */
export interface BackgroundRun {
  /** `held`: the control, the same fusions sent as interactive requests held open (no priority). */
  kind: "batch" | "async" | "held";
  /** Background fusions submitted. */
  fusions: number;
  /** The interactive fusions measured meanwhile. */
  record: RunRecord;
  /** Background fusions answered when the interactive measurement started (async: at least) and ended. */
  doneAtStart: number;
  doneAtEnd: number;
  /** When the interactive measurement (its warm-up included) started and ended, ms after the submission. */
  windowMs: [number, number];
  /** From submitting the background work to its last answer. */
  durationMs: number;
  outcome: string;
}

type Row = [
  scenario: string,
  metric: string,
  ours: string,
  baseline: string,
  floor: string,
  vsBaseline: string,
  vsFloor: string,
  target: string,
  met: string,
];

const HEADER: Row = [
  "Scenario",
  "Metric",
  "Fusion (services)",
  "Baseline (in-process)",
  "Floor (minimal)",
  "× baseline",
  "× floor",
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

/** CPU ms per request of the system's own processes: the services and Redis, or the one in-process process. */
function ownCpuMs(r: RunRecord | undefined): number | undefined {
  if (!r) return undefined;
  return sum(
    Object.entries(r.cpuMsPerRequest)
      .filter(([k]) => k !== "simulator" && k !== "load")
      .map(([, v]) => v),
  );
}

/** Memory per fusion in flight, KiB: Σ over the system's processes of (peak RSS − RSS just before) ÷ peak in flight. */
function kibPerFusionInFlight(r: RunRecord | undefined): number | undefined {
  if (!r?.idleRssMiB || !r.peakInFlight) return undefined;
  let grown = 0;
  for (const [k, idle] of Object.entries(r.idleRssMiB)) {
    if (k === "simulator" || k === "load" || k.startsWith("redis")) continue;
    grown += Math.max(0, (r.peakRssMiB[k] ?? idle) - idle);
  }
  return (grown * 1024) / r.peakInFlight;
}

function tableRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  const s = results.scenarios;
  /** One metric of the three systems; `value` extracts it, `fmt` prints it, ratios are ours ÷ theirs. */
  const tri = (
    scenario: string,
    metric: string,
    f: RunRecord | undefined,
    b: RunRecord | undefined,
    fl: RunRecord | undefined,
    value: (r: RunRecord) => number | undefined,
    fmt: (v: number | undefined) => string,
    target = "",
    ok?: boolean,
  ) => {
    const [fv, bv, flv] = [f, b, fl].map((r) => (r ? value(r) : undefined));
    rows.push([scenario, metric, fmt(fv), fmt(bv), fmt(flv), ratio(fv, bv), ratio(fv, flv), target, met(ok)]);
  };
  const text = (
    scenario: string,
    metric: string,
    f: string,
    b: string,
    fl: string,
    target = "",
    ok?: boolean,
  ) => rows.push([scenario, metric, f, b, fl, "", "", target, met(ok)]);

  if (s.overhead) {
    const cp = results.criticalPathMs.overhead ?? 0;
    for (const level of s.overhead.levels) {
      const { fusion: f, baseline: b, floor: fl } = level;
      const name = `1. Overhead c=${level.concurrency}`;
      text(name, `e2e p50 / p99 ms (critical path ${ms(cp)})`, p(f), p(b), p(fl));
      tri(name, "overhead p50 ms (e2e − critical path)", f, b, fl, (r) => r.e2e.p50 - cp, ms);
      tri(name, "overhead p99 ms", f, b, fl, (r) => r.e2e.p99 - cp, ms);
      const addedB = f && b ? f.e2e.p50 - b.e2e.p50 : undefined;
      const addedF = f && fl ? f.e2e.p50 - fl.e2e.p50 : undefined;
      const unloaded = level.concurrency === 1;
      text(
        name,
        "added by the services p50 ms: vs baseline / vs floor",
        `${ms(addedB)} / ${ms(addedF)}`,
        "0",
        "0",
        unloaded ? "≤ 8 vs baseline" : "",
        unloaded && addedB !== undefined ? addedB <= 8 : undefined,
      );
      text(name, "errors", errorsOf(f), errorsOf(b), errorsOf(fl));
    }
    for (const level of s.overhead.levels) {
      const { fusion: f, baseline: b, floor: fl } = level;
      const target = level.concurrency === 50;
      tri(
        `4. First SSE byte c=${level.concurrency}`,
        "p99 ms (p50 in the details)",
        f,
        b,
        fl,
        (r) => r.ttfb.p99,
        ms,
        target ? "p99 ≤ 50" : "",
        target && f ? f.ttfb.p99 <= 50 : undefined,
      );
    }
  }

  if (s.throughput) {
    for (const [label, slot] of [
      ["non-streaming", s.throughput.nonStreaming],
      ["streaming", s.throughput.streaming],
    ] as const) {
      const { fusion: f, baseline: b, floor: fl } = slot;
      const name = `2. Throughput ${label}`;
      const conc = f?.concurrency ?? b?.concurrency ?? fl?.concurrency;
      const vsFloor = f && fl ? f.throughput / fl.throughput : undefined;
      tri(
        name,
        `fusions/s (L=0, ${conc} in flight)`,
        f,
        b,
        fl,
        (r) => r.throughput,
        (v) => num(v, 1),
        "≥ 0.35× floor",
        vsFloor !== undefined ? vsFloor >= 0.35 : undefined,
      );
      text(name, "e2e p50 / p99 ms at that load", p(f), p(b), p(fl));
      tri(
        name,
        "CPU ms per fusion, all processes (incl. simulator, load)",
        f,
        b,
        fl,
        (r) => sum(Object.values(r.cpuMsPerRequest)),
        (v) => num(v, 2),
      );
      const ownF = ownCpuMs(f);
      const ownB = ownCpuMs(b);
      tri(
        name,
        "CPU ms per fusion: services + Redis (baseline, floor: their process)",
        f,
        b,
        fl,
        ownCpuMs,
        (v) => num(v, 2),
        "≤ 2× baseline",
        ownF !== undefined && ownB !== undefined ? ownF <= 2 * ownB : undefined,
      );
      const cmds = f?.redis?.commandsPerRequest;
      const scripts = f?.redis?.scriptsPerRequest;
      text(
        name,
        "Redis commands per fusion (INFO commandstats)",
        num(cmds, 1),
        "0",
        "0",
        "≤ 100",
        cmds !== undefined ? cmds <= 100 : undefined,
      );
      text(
        name,
        "Redis script calls per fusion",
        num(scripts, 1),
        "0",
        "0",
        "≤ 8",
        scripts !== undefined ? scripts <= 8 : undefined,
      );
      text(
        name,
        "upstream calls per fusion (8 expected)",
        num(f?.upstreamCallsPerRequest, 2),
        num(b?.upstreamCallsPerRequest, 2),
        num(fl?.upstreamCallsPerRequest, 2),
      );
      text(name, "errors", errorsOf(f), errorsOf(b), errorsOf(fl));
    }
    const { fusion: f, baseline: b, floor: fl } = s.throughput.streaming;
    tri("4. First SSE byte, throughput load", "p99 ms", f, b, fl, (r) => r.ttfb.p99, ms);
  }

  for (const [key, label] of [
    ["concurrency", "3. Concurrency"],
    ["concurrency10k", "6. Concurrency 10k"],
  ] as const) {
    const c = s[key];
    if (!c) continue;
    const { fusion: f, baseline: b, floor: fl } = c;
    const name = `${label} (L=${c.latencyMs} ms)`;
    const is10k = key === "concurrency10k";
    const cp = results.criticalPathMs[key] ?? 0;
    const requested = f?.total ?? fl?.total ?? 0;
    tri(
      name,
      `streams held open at once (peak, of ${requested})`,
      f,
      b,
      fl,
      (r) => r.peakOpen,
      (v) => num(v),
      is10k ? "≥ 9500" : "",
      is10k && f ? f.peakOpen >= 9500 : undefined,
    );
    const fErr = f ? f.errors + f.unfinished : undefined;
    text(
      name,
      "errors (rate)",
      errorsOf(f),
      errorsOf(b),
      errorsOf(fl),
      is10k ? "0" : "",
      is10k && fErr !== undefined ? fErr === 0 : undefined,
    );
    text(name, `e2e p50 / p99 ms (critical path ${ms(cp)})`, p(f), p(b), p(fl));
    text(name, "first SSE byte p50 / p99 ms", pt(f), pt(b), pt(fl));
    text(
      name,
      "upstream calls per fusion (8 expected)",
      num(f?.upstreamCallsPerRequest, 2),
      num(b?.upstreamCallsPerRequest, 2),
      num(fl?.upstreamCallsPerRequest, 2),
    );
    const services = (r: RunRecord | undefined) =>
      r
        ? sum(
            Object.entries(r.peakRssMiB)
              .filter(([k]) => k !== "simulator" && k !== "load" && !k.startsWith("redis"))
              .map(([, v]) => v),
          )
        : undefined;
    text(
      name,
      "peak RSS MiB: services total (baseline, floor: their process)",
      num(services(f)),
      num(services(b)),
      num(services(fl)),
    );
    if (is10k) {
      const kib = kibPerFusionInFlight(f);
      tri(
        name,
        "memory per fusion in flight, KiB: Σ(peak RSS − idle RSS) ÷ peak in flight",
        f,
        b,
        fl,
        kibPerFusionInFlight,
        (v) => num(v, 0),
        "≤ 200 KB",
        kib !== undefined ? kib * 1.024 <= 200 : undefined,
      );
    }
    const used = f?.redis?.usedPeakMiB;
    text(
      name,
      "Redis used_memory MiB: before / peak",
      f?.redis ? `${num(f.redis.usedBeforeMiB, 1)} / ${num(used, 1)}` : "–",
      "n/a",
      "n/a",
      is10k ? "≤ 1 GB" : "",
      is10k && used !== undefined ? used * 2 ** 20 <= 1e9 : undefined,
    );
  }

  if (s.passthrough) {
    for (const pass of s.passthrough) {
      const g = pass.gateway;
      const d = pass.direct;
      const name = `5. Pass-through ${pass.label}`;
      const added = g && d ? g.e2e.p50 - d.e2e.p50 : undefined;
      const unloaded = pass.label.startsWith("non-streaming c=1");
      const loaded = pass.label.startsWith("non-streaming c=50");
      rows.push([
        name,
        "e2e p50 / p99 ms (floor: simulator direct)",
        p(g),
        "",
        p(d),
        "",
        ratio(g?.e2e.p50, d?.e2e.p50),
        "",
        "",
      ]);
      rows.push([
        name,
        "added by the gateway p50 / p99 ms",
        g && d ? pair(added, g.e2e.p99 - d.e2e.p99) : "–",
        "",
        "0",
        "",
        "",
        unloaded ? "p50 ≤ 0.5" : "",
        unloaded && added !== undefined ? met(added <= 0.5) : "",
      ]);
      rows.push([
        name,
        "requests/s",
        num(g?.throughput, 0),
        "",
        num(d?.throughput, 0),
        "",
        ratio(g?.throughput, d?.throughput),
        loaded ? "≥ 3500" : "",
        loaded && g ? met(g.throughput >= 3500) : "",
      ]);
      if ((g?.errors ?? 0) + (d?.errors ?? 0) > 0) text(name, "errors", errorsOf(g), "", errorsOf(d));
    }
  }

  if (s.shards?.length) {
    const spread = (byMaster: Record<string, number>) => {
      const v = Object.values(byMaster);
      return v.length && Math.min(...v) > 0 ? Math.max(...v) / Math.min(...v) : Number.POSITIVE_INFINITY;
    };
    const one = s.shards.find((x) => x.shards === 1);
    for (const sh of s.shards) {
      const name = `7. Shards on 3 masters, QUEUE_SHARDS=${sh.shards}`;
      const fusions = sh.record.warmup + sh.record.total;
      rows.push([
        name,
        `fusions/s (non-streaming, ${sh.record.concurrency} in flight)`,
        num(sh.record.throughput, 1),
        "",
        "",
        "",
        "",
        sh.shards === 3 && one ? `vs 1 shard: ${ratio(sh.record.throughput, one.record.throughput)}` : "",
        "",
      ]);
      const perMaster = Object.entries(sh.commandsByMaster)
        .map(([port, n]) => `${port}: ${(n / Math.max(1, fusions)).toFixed(1)}`)
        .join(", ");
      const sp = spread(sh.commandsByMaster);
      rows.push([
        name,
        "commands per fusion on each master (max ÷ min)",
        `${perMaster} (${Number.isFinite(sp) ? `${sp.toFixed(2)}×` : "∞"})`,
        "",
        "",
        "",
        "",
        sh.shards === 3 ? "within 1.5×" : "",
        sh.shards === 3 ? met(sp <= 1.5) : "",
      ]);
      rows.push([name, "errors", errorsOf(sh.record), "", "", "", "", "", ""]);
    }
  }
  return rows;
}

const p = (r: RunRecord | undefined) => (r ? pair(r.e2e.p50, r.e2e.p99) : "–");
const pt = (r: RunRecord | undefined) => (r ? pair(r.ttfb.p50, r.ttfb.p99) : "–");

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
    const floor = b.floor ?? {};
    const keys = [...new Set([...Object.keys(f), ...Object.keys(base), ...Object.keys(floor)])];
    const width = Math.max(...keys.map((k) => k.length));
    out.push(
      `Where the time of one fusion goes (sequential, L=${results.scenarios.overhead?.latencyMs} ms, medians, ms):`,
    );
    out.push(
      `  ${"phase".padEnd(width)}  ${"fusion".padStart(8)}  ${"baseline".padStart(8)}  ${"floor".padStart(8)}`,
    );
    for (const k of keys)
      out.push(
        `  ${k.padEnd(width)}  ${ms(f[k]).padStart(8)}  ${ms(base[k]).padStart(8)}  ${ms(floor[k]).padStart(8)}`,
      );
    out.push("");
  }
  const t = results.scenarios.throughput;
  if (t) {
    out.push("CPU ms per fusion by process (throughput, non-streaming):");
    out.push(`  fusion:   ${cpuLine(t.nonStreaming.fusion)}`);
    out.push(`  baseline: ${cpuLine(t.nonStreaming.baseline)}`);
    out.push(`  floor:    ${cpuLine(t.nonStreaming.floor)}`);
    out.push("CPU ms per fusion by process (throughput, streaming):");
    out.push(`  fusion:   ${cpuLine(t.streaming.fusion)}`);
    out.push(`  baseline: ${cpuLine(t.streaming.baseline)}`);
    out.push(`  floor:    ${cpuLine(t.streaming.floor)}`);
    const commands = t.nonStreaming.fusion?.redis?.commands;
    const fusions = t.nonStreaming.fusion ? t.nonStreaming.fusion.warmup + t.nonStreaming.fusion.total : 0;
    if (commands?.length) {
      out.push("");
      out.push(
        `Redis INFO commandstats, throughput non-streaming run (${fusions} fusions, warm-up included), top 15 by total time:`,
      );
      out.push("  command                      calls   calls/fusion   total ms   µs/call");
      for (const c of commands.slice(0, 15)) {
        out.push(
          `  ${c.command.padEnd(26)} ${String(c.calls).padStart(8)} ${(c.calls / Math.max(1, fusions)).toFixed(2).padStart(14)} ${(c.usec / 1000).toFixed(1).padStart(10)} ${(c.usec / Math.max(1, c.calls)).toFixed(1).padStart(9)}`,
        );
      }
      const perFusion = t.nonStreaming.fusion?.redis?.commandsPerRequest;
      out.push(
        `  all commands: ${num(perFusion, 1)} per fusion, ${num(t.nonStreaming.fusion?.redis?.scriptsPerRequest, 1)} of them script calls (every command type, inside scripts and MULTIs included)`,
      );
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
      out.push(
        `Redis, throughput streaming run: ${num(t.streaming.fusion?.redis?.commandsPerRequest, 1)} commands and ${num(t.streaming.fusion?.redis?.scriptsPerRequest, 1)} script calls per fusion; top: ${s
          .slice(0, 6)
          .map((c) => `${c.command} ${(c.calls / Math.max(1, sf)).toFixed(1)}/fusion`)
          .join(", ")}`,
      );
    }
  }
  out.push(...renderCounts(results));
  out.push(...renderCapacity(results));
  out.push(...renderShards(results));
  out.push(...renderBackground(results));
  const k = results.scenarios.concurrency10k;
  if (k?.fusion || k?.floor) {
    const line = (r: RunRecord | undefined) =>
      r?.idleRssMiB
        ? Object.entries(r.idleRssMiB)
            .filter(([name]) => name !== "simulator")
            .map(([name, idle]) => `${name} ${idle.toFixed(0)} → ${(r.peakRssMiB[name] ?? idle).toFixed(0)}`)
            .join(", ")
        : "–";
    out.push("");
    out.push(
      `Concurrency 10k (L=${k.latencyMs} ms, UPSTREAM_CONNECTIONS ${k.upstreamConnections}): RSS MiB idle → peak: services ${line(k.fusion)}; floor ${line(k.floor)}; peak in flight ${num(k.fusion?.peakInFlight)} (floor ${num(k.floor?.peakInFlight)})`,
    );
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
  visit("concurrency", s.concurrency?.floor);
  visit("concurrency10k", s.concurrency10k?.fusion);
  visit("concurrency10k", s.concurrency10k?.floor);
  for (const l of s.overhead?.levels ?? []) visit(`overhead c=${l.concurrency}`, l.floor);
  visit("throughput non-streaming", s.throughput?.nonStreaming.floor);
  visit("throughput streaming", s.throughput?.streaming.floor);
  for (const sh of s.shards ?? []) visit(`shards=${sh.shards}`, sh.record);
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
  note("floor", s.concurrency?.floor);
  note("concurrency10k fusion", s.concurrency10k?.fusion);
  note("floor", s.concurrency10k?.floor);
  note("throughput floor", s.throughput?.nonStreaming.floor);
  note("streaming floor", s.throughput?.streaming.floor);
  for (const sh of s.shards ?? []) note(`shards=${sh.shards}`, sh.record);
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

/** The MONITOR capture: commands per fusion by stage, sent and run inside scripts. */
function renderCounts(results: BenchResults): string[] {
  const c = results.scenarios.counts;
  if (!c) return [];
  const out: string[] = [""];
  for (const [label, m] of [
    ["non-streaming", c.nonStreaming],
    ["streaming", c.streaming],
  ] as const) {
    if (!m) continue;
    const n = Math.max(1, m.fusions);
    const per = (v: number) => (v / n).toFixed(1).padStart(7);
    const width = Math.max(5, ...m.stages.map((s) => s.stage.length));
    out.push(
      `Redis commands per fusion by stage (MONITOR over ${m.fusions} ${label} fusions at c=1; "in scripts" = commands the stage's scripts ran inside Redis):`,
    );
    out.push(`  ${"stage".padEnd(width)}     sent  scripts  in scripts  top commands sent`);
    for (const s of m.stages) {
      const top = Object.entries(s.top)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([cmd, calls]) => `${cmd} ${(calls / n).toFixed(1)}`)
        .join(", ");
      out.push(
        `  ${s.stage.padEnd(width)}  ${per(s.sent)}  ${per(s.scripts)}  ${per(s.inScripts).padStart(10)}  ${top}`,
      );
    }
    const stages = m.stages;
    const total = (f: (s: (typeof stages)[number]) => number) => sum(stages.map(f));
    out.push(
      `  ${"total".padEnd(width)}  ${per(total((s) => s.sent))}  ${per(total((s) => s.scripts))}  ${per(total((s) => s.inScripts)).padStart(10)}  (sent + in scripts = ${per(total((s) => s.sent + s.inScripts)).trim()} commands run per fusion)`,
    );
    const inner: Record<string, number> = {};
    for (const s of stages)
      for (const [cmd, calls] of Object.entries(s.topInScripts ?? {})) inner[cmd] = (inner[cmd] ?? 0) + calls;
    const innerTop = Object.entries(inner)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([cmd, calls]) => `${cmd} ${(calls / n).toFixed(1)}`)
      .join(", ");
    if (innerTop) out.push(`  run inside scripts, per fusion: ${innerTop}`);
  }
  return out;
}

/**
 * The capacity model: what one core of each service and one Redis master sustain at the CPU cost per
 * fusion measured in the throughput runs (L = 0, so this is the pipeline's own work), and how many of
 * each serve 1,000 and 10,000 fusions/s of the bench's shape when every upstream call takes
 * `callSeconds` (8 calls, 4 on the critical path), each unit run at `utilisation` at most.
 */
function renderCapacity(results: BenchResults, callSeconds = 3, utilisation = 0.7): string[] {
  const t = results.scenarios.throughput;
  const r = t?.streaming.fusion ?? t?.nonStreaming.fusion;
  if (!r) return [];
  const out = [
    "",
    `Capacity model (CPU per fusion from the throughput ${r.stream ? "streaming" : "non-streaming"} run; ${callSeconds} s per upstream call, 8 calls, ${4 * callSeconds} s critical path; every process and Redis master at ≤ ${utilisation * 100}% of a core):`,
  ];
  const services = ["gateway", "panel-worker", "judge-worker", "redis"] as const;
  const perCore: Record<string, number> = {};
  for (const name of services) {
    const cpu = sum(
      Object.entries(r.cpuMsPerRequest)
        .filter(([k]) => k === name || k.startsWith(`${name}#`))
        .map(([, v]) => v),
    );
    if (cpu > 0) perCore[name] = 1000 / cpu;
  }
  out.push(
    `  fusions/s per core at 100%: ${Object.entries(perCore)
      .map(([k, v]) => `${k === "redis" ? "Redis master (one thread)" : k} ${v.toFixed(0)}`)
      .join(", ")}`,
  );
  const cmds = r.redis?.commandsPerRequest;
  const k10 = results.scenarios.concurrency10k;
  const memKiB = kibPerFusionInFlight(k10?.fusion);
  const redisKiB =
    k10?.fusion?.redis && k10.fusion.peakInFlight
      ? ((k10.fusion.redis.usedPeakMiB - k10.fusion.redis.usedBeforeMiB) * 1024) / k10.fusion.peakInFlight
      : undefined;
  for (const rate of [1000, 10_000]) {
    const units = Object.entries(perCore).map(
      ([k, v]) => `${Math.ceil(rate / (v * utilisation))} ${k === "redis" ? "masters (= QUEUE_SHARDS)" : k}`,
    );
    const inFlight = rate * 4 * callSeconds;
    const mem =
      memKiB !== undefined ? `${((inFlight * memKiB) / 2 ** 20).toFixed(1)} GiB in the services` : "";
    const redisMem =
      redisKiB !== undefined ? `${((inFlight * redisKiB) / 2 ** 20).toFixed(1)} GiB in Redis` : "";
    out.push(
      `  ${rate.toLocaleString("en")} fusions/s: ${units.join(", ")}; ${inFlight.toLocaleString("en")} fusions in flight (rate × critical path)${[
        mem,
        redisMem,
      ]
        .filter(Boolean)
        .map((x) => `, ${x}`)
        .join(
          "",
        )}${cmds !== undefined ? `; ${((rate * cmds) / 1000).toFixed(0)}k Redis commands/s in all` : ""}; slots in use: panel ${(rate * 3 * 2 * callSeconds).toLocaleString("en")}, judge ${(rate * callSeconds).toLocaleString("en")}, turn ${inFlight.toLocaleString("en")}; upstream calls open ${(rate * 8 * callSeconds).toLocaleString("en")}`,
    );
  }
  const first = Object.entries(perCore).sort((a, b) => a[1] - b[1])[0];
  if (first)
    out.push(
      `  first to saturate per unit: ${first[0]} (${first[1].toFixed(0)} fusions/s per core)${perCore.redis ? `; a Redis master cannot use a second core, so past ${(perCore.redis * utilisation).toFixed(0)} fusions/s (${cmds !== undefined ? `${((perCore.redis * utilisation * cmds) / 1000).toFixed(0)}k commands/s` : "its share"}) the queue needs another shard` : ""}`,
    );
  return out;
}

/** Commands per master in the shards scenario. */
function renderShards(results: BenchResults): string[] {
  const sh = results.scenarios.shards;
  if (!sh?.length) return [];
  const out = [
    "",
    "Shards on a 3-master cluster: commands (script calls) per fusion on each master, by port:",
  ];
  for (const x of sh) {
    const n = Math.max(1, x.record.warmup + x.record.total);
    out.push(
      `  QUEUE_SHARDS=${x.shards}: ${Object.entries(x.commandsByMaster)
        .map(
          ([port, c]) => `${port} ${(c / n).toFixed(1)} (${((x.scriptsByMaster[port] ?? 0) / n).toFixed(1)})`,
        )
        .join(", ")}; ${x.record.throughput.toFixed(1)} fusions/s; CPU ms per fusion ${Object.entries(
        x.record.cpuMsPerRequest,
      )
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(", ")}${x.note ? `; ${x.note}` : ""}`,
    );
  }
  return out;
}

/** Interactive p50/p99 beside background work against the same on an idle stack (target: p50 within 2×). */
function renderBackground(results: BenchResults): string[] {
  const bg = results.scenarios.background;
  if (!bg?.idle) return [];
  const idle = bg.idle;
  const line = (label: string, r: RunRecord) =>
    `  ${label}: e2e p50 ${ms(r.e2e.p50)} ms, p99 ${ms(r.e2e.p99)} ms (${r.ok} ok, ${r.errors} errors, ${num(r.throughput, 1)}/s, other processes ${num(r.foreignCores, 2)} cores)`;
  const out = [
    "",
    `Interactive fusions beside background work (L=${bg.latencyMs} ms, ${idle.total} streaming fusions at c=${idle.concurrency}, workers ${JSON.stringify(bg.workerConcurrency ?? {})}; target: p50 within 2× of idle):`,
    line("idle", idle),
  ];
  const after = bg.idleAfter;
  if (after) out.push(line("idle again, at the end", after));
  // The machine is shared: the idle figure is taken twice, and the verdict uses the faster one.
  const fastest = Math.min(idle.e2e.p50, after?.e2e.p50 ?? idle.e2e.p50);
  const again = (v: number, p: "p50" | "p99") => (after ? ` and ${ratio(v, after.e2e[p])} idle again` : "");
  for (const run of bg.runs) {
    const r = run.record;
    const what =
      run.kind === "batch"
        ? `a ${run.fusions}-line batch`
        : run.kind === "async"
          ? `${run.fusions} async fusions`
          : `${run.fusions} held interactive fusions (control: no priority)`;
    const [from, to] = run.windowMs.map((v) => num(v / 1000, 1));
    out.push(
      line(`beside ${what}`, r),
      `    p50 ${ratio(r.e2e.p50, idle.e2e.p50)} idle${again(r.e2e.p50, "p50")} (${r.e2e.p50 <= 2 * fastest ? "within" : "beyond"} 2× of the faster idle run), p99 ${ratio(r.e2e.p99, idle.e2e.p99)}${again(r.e2e.p99, "p99")}; measured ${from}–${to} s after the submission, while the background answered ${run.doneAtStart} → ${run.doneAtEnd} of ${run.fusions}; all of it took ${num(run.durationMs / 1000, 1)} s (${run.outcome})`,
    );
  }
  return out;
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
