/**
 * `pnpm bench`: starts Redis, the simulator (its own process) and the real services (Stack), drives
 * load from a separate process (bench/load.ts) over loopback, runs the same load against the
 * in-process baseline (bench/baseline.ts) and the minimal floor (bench/floor.ts), and prints one
 * table with the three side by side, the Redis commands per stage and a capacity model.
 *
 *   pnpm bench                       # full run, a few minutes
 *   pnpm bench --quick               # short validation run
 *   pnpm bench --cpu-prof            # also CPU-profile the services and the baseline, and summarise
 *   pnpm bench --scenarios throughput,passthrough --no-baseline
 *
 * Every load goes to 127.0.0.1, is bounded in count and in time, and stops by itself.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { lineFusionId } from "@fusion/intake";
import { queueShards } from "@fusion/runtime";
import { SimulatorControl } from "@fusion/simulator";
import { type RedisFixture, startRedis, startRedisCluster } from "@fusion/testing";
import { Redis } from "ioredis";
import { captureCommands, SCRIPT_COMMANDS } from "./lib/monitor-counts.ts";
import {
  type CommandStat,
  commandStats,
  commandStatsDiff,
  machineBusyMs,
  PeakSampler,
  procCpuMs,
  procMemory,
  redisInfo,
} from "./lib/probes.ts";
import {
  BenchStack,
  benchDir,
  rootDir,
  runLoadProcess,
  type ServerProcess,
  startServerProcess,
} from "./lib/processes.ts";
import { type BackgroundContext, besideAsync, besideBatch, besideHeld } from "./lib/background.ts";
import { summarize } from "./lib/stats.ts";
import { CALLS_PER_FUSION, CRITICAL_PATH_CALLS, fusionBody, plainBody, scripts } from "./lib/workload.ts";
import type { LoadConfig } from "./load.ts";
import { summarizeProfiles } from "./profile-summary.ts";
import { type BenchResults, type RunRecord, renderReport } from "./report.ts";

// ---------------------------------------------------------------- options

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    scenarios: { type: "string", default: "overhead,throughput,concurrency,passthrough,counts" },
    "no-baseline": { type: "boolean", default: false },
    "no-floor": { type: "boolean", default: false },
    "streams-10k": { type: "string" },
    "latency-10k-ms": { type: "string", default: "3000" },
    "connections-10k": { type: "string", default: "6000" },
    "shard-fusions": { type: "string" },
    "count-fusions": { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "latency-ms": { type: "string" },
    "token-delay-ms": { type: "string", default: "0" },
    levels: { type: "string" },
    "overhead-requests": { type: "string" },
    "throughput-requests": { type: "string" },
    "throughput-concurrency": { type: "string" },
    streams: { type: "string" },
    "stream-latency-ms": { type: "string", default: "1000" },
    "passthrough-requests": { type: "string" },
    "time-limit-s": { type: "string" },
    "worker-concurrency": { type: "string", default: "8000,4000,4000" },
    gateways: { type: "string", default: "1" },
    "panel-workers": { type: "string", default: "1" },
    "judge-workers": { type: "string", default: "1" },
    "max-minutes": { type: "string" },
    "baseline-connections": { type: "string" },
    "background-fusions": { type: "string" },
    "background-interactive": { type: "string" },
    "background-kinds": { type: "string", default: "batch,async,held" },
    "background-worker-concurrency": { type: "string", default: "64,64,256" },
    help: { type: "boolean", default: false },
  },
  allowPositionals: false,
});

if (flags.help) {
  process.stdout.write(
    [
      "pnpm bench [--quick] [--scenarios overhead,throughput,concurrency,passthrough,counts] [--no-baseline] [--no-floor] [--cpu-prof]",
      "  scenarios not in the default list: concurrency10k (10,000 streams at 3 s per call, minutes), shards (3-master cluster),",
      "    background (interactive fusions idle, then beside a batch and beside async fusions)",
      "  --no-floor                 skip the minimal in-process pipeline (bench/floor.ts)",
      "  --streams-10k N            streams of the concurrency10k scenario (default 10000; quick 1000)",
      "  --latency-10k-ms N         per-call latency of the concurrency10k scenario (default 3000)",
      "  --connections-10k N        UPSTREAM_CONNECTIONS of the services and the floor in concurrency10k (default 6000)",
      "  --shard-fusions N          non-streaming fusions per shards run, 50 at once (default 1000; quick 200)",
      "  --count-fusions N          fusions (each of non-streaming and streaming) under MONITOR at c=1 (default 5; quick 3)",
      "  --latency-ms N             per-call simulated latency of the overhead scenario (default 100; quick 50)",
      "  --token-delay-ms N         delay between streamed chunks of every call (default 0)",
      "  --levels 1,50,200          concurrent fusions of the overhead scenario (quick: 1,20)",
      "  --overhead-requests N      requests per level (default: 50 at c=1, else 10 × c; quick: 10, 3 × c)",
      "  --throughput-requests N    fusions per throughput run (default 2000; quick 200)",
      "  --throughput-concurrency N fusions in flight in the throughput runs (default 50; quick 32)",
      "  --streams N                concurrent streaming fusions (default 2000; quick 200)",
      "  --stream-latency-ms N      per-call latency of the concurrency scenario (default 1000)",
      "  --passthrough-requests N   requests per pass-through run (default 2000; quick 200)",
      "  --time-limit-s N           hard limit of every measured run (default: per scenario)",
      "  --worker-concurrency P,J,T PANEL_/JUDGE_/TURN_CONCURRENCY of the services (default 8000,4000,4000)",
      "  --gateways N --panel-workers N --judge-workers N   processes per service (default 1)",
      "  --max-minutes N            the whole bench stops (and fails) after this (default 30; quick 10)",
      "  --cpu-prof                 NODE_OPTIONS=--cpu-prof for the services and the baseline, into bench/profiles/",
      "  --baseline-connections N   experiment: the baseline's UpstreamClient pool size (default: the client's own)",
      "  --background-fusions N     background fusions of the background scenario (default 500; quick 100)",
      "  --background-interactive N interactive fusions measured per background run, 10 at once (default 200; quick 60)",
      "  --background-kinds K       background work to measure beside: batch, async, held (the control) (default all three)",
      "  --background-worker-concurrency P,J,T  worker slots of the background scenario (default 64,64,256: production)",
      "",
    ].join("\n"),
  );
  process.exit(0);
}

const quick = flags.quick === true;
const int = (v: string | undefined, fallback: number) =>
  v === undefined ? fallback : Number.parseInt(v, 10);
const scenarioNames = new Set(
  (flags.scenarios ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
const withBaseline = !flags["no-baseline"];
const withFloor = !flags["no-floor"];
const streams10k = int(flags["streams-10k"], quick ? 1000 : 10_000);
const latency10k = int(flags["latency-10k-ms"], 3000);
const connections10k = int(flags["connections-10k"], 6000);
const shardFusions = int(flags["shard-fusions"], quick ? 200 : 1000);
const countFusions = int(flags["count-fusions"], quick ? 3 : 5);
const latencyMs = int(flags["latency-ms"], quick ? 50 : 100);
const tokenDelayMs = int(flags["token-delay-ms"], 0);
const levels = (flags.levels ?? (quick ? "1,20" : "1,50,200")).split(",").map((s) => Number.parseInt(s, 10));
const overheadRequests = (c: number) =>
  flags["overhead-requests"]
    ? int(flags["overhead-requests"], 0)
    : quick
      ? c === 1
        ? 10
        : 3 * c
      : c === 1
        ? 50
        : 10 * c;
const throughputRequests = int(flags["throughput-requests"], quick ? 200 : 2000);
const throughputConcurrency = int(flags["throughput-concurrency"], quick ? 32 : 50);
const streams = int(flags.streams, quick ? 200 : 2000);
const streamLatencyMs = int(flags["stream-latency-ms"], 1000);
const passthroughRequests = int(flags["passthrough-requests"], quick ? 200 : 2000);
const timeLimitOverride = flags["time-limit-s"] ? int(flags["time-limit-s"], 0) * 1000 : undefined;
const [panelConcurrency, judgeConcurrency, turnConcurrency] = (flags["worker-concurrency"] ?? "").split(",");
const maxMinutes = int(flags["max-minutes"], quick ? 10 : 30);
const cpuProf = flags["cpu-prof"] === true;
const backgroundFusions = int(flags["background-fusions"], quick ? 100 : 500);
const backgroundInteractive = int(flags["background-interactive"], quick ? 60 : 200);
const backgroundKinds = (flags["background-kinds"] ?? "").split(",").map((s) => s.trim());

const runId = new Date().toISOString().replace(/[:.]/g, "-").replace(/Z$/, "");
const profileRoot = join(benchDir, "profiles", runId);
const resultsDir = join(benchDir, "results");
const limit = (ms: number) => timeLimitOverride ?? ms;

/** The services' environment: production defaults, except the worker concurrency raised for load. */
const serviceEnv: Record<string, string> = {
  LOG_LEVEL: "info",
  KEEPALIVE_MS: "10000",
  PANEL_CONCURRENCY: panelConcurrency ?? "8000",
  JUDGE_CONCURRENCY: judgeConcurrency ?? "4000",
  TURN_CONCURRENCY: turnConcurrency ?? "4000",
  // One API key sends every request of the bench: its per-key caps are not what is measured.
  MAX_OPEN_STREAMS_PER_KEY: "0",
  MAX_CONCURRENT_FUSIONS: "0",
};

// ---------------------------------------------------------------- lifecycle

const cleanups: Array<() => Promise<void>> = [];
let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
}
process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)));
process.on("SIGTERM", () => void cleanup().finally(() => process.exit(143)));
const overall = setTimeout(() => {
  log(`the bench ran past --max-minutes ${maxMinutes}: stopping everything`);
  void cleanup().finally(() => process.exit(3));
}, maxMinutes * 60_000);
overall.unref();

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

// ---------------------------------------------------------------- environment

const redisFixture: RedisFixture = await startRedis();
cleanups.push(() => redisFixture.close());
const redis = new Redis(redisFixture.url, { maxRetriesPerRequest: 2 });
cleanups.push(async () => redis.disconnect());
const redisServer = await redisInfo(redis, "server");
const redisPid = localRedisPid(Number(redisServer.process_id));

const simControlToken = randomBytes(24).toString("hex");
const sim = await startServerProcess("simulator", join(rootDir, "packages/simulator/src/main.ts"), {
  PORT: "0",
  HOST: "127.0.0.1",
  SIM_CONTROL_TOKEN: simControlToken,
});
cleanups.push(() => sim.stop());
const control = new SimulatorControl(sim.url, simControlToken);
log(`redis ${redisFixture.url} (${redisFixture.source}), simulator ${sim.url}`);

const results: BenchResults = {
  runId,
  startedAt: new Date().toISOString(),
  quick,
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    redis: redisServer.redis_version ?? "unknown",
    kernel: `${os.type()} ${os.release()}`,
    loadAvgAtStart: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    ...gitState(),
  },
  settings: {
    latencyMs,
    tokenDelayMs,
    levels,
    throughputRequests,
    throughputConcurrency,
    streams,
    streamLatencyMs,
    passthroughRequests,
    serviceEnv,
    gateways: int(flags.gateways, 1),
    panelWorkers: int(flags["panel-workers"], 1),
    judgeWorkers: int(flags["judge-workers"], 1),
    withBaseline,
    withFloor,
    streams10k,
    latency10k,
    connections10k,
    shardFusions,
    cpuProf,
    baselineConnections: flags["baseline-connections"] ?? "client default (256)",
  },
  criticalPathMs: {},
  scenarios: {},
  notes: [],
};

// ---------------------------------------------------------------- helpers

/** Commands the bench itself sends to Redis while it measures. */
const BENCH_COMMANDS = new Set(["info", "client|list", "monitor", "cluster|nodes", "cluster|info"]);

/** The commit and the files changed on top of it: the tree is shared, so a run records what it measured. */
function gitState(): Record<string, string> {
  // Only the end is trimmed: a porcelain line starts with a status column that may be a space.
  const git = (args: string[]) =>
    spawnSync("git", args, { cwd: rootDir, encoding: "utf8" }).stdout?.trimEnd() ?? "";
  const changed = git(["status", "--porcelain", "--untracked-files=all", "--", "packages", "services"])
    .split("\n")
    .filter(Boolean);
  return {
    gitHead: git(["rev-parse", "--short", "HEAD"]).trim() || "unknown",
    gitChangedFiles: changed.length ? `${changed.length}: ${changed.map((l) => l.slice(3)).join(" ")}` : "0",
  };
}

/** A testcontainers Redis reports its pid inside the container: only a local redis-server process counts. */
function localRedisPid(pid: number): number | undefined {
  if (!pid) return undefined;
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").includes("redis") ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function setLatency(latency: number, tokenDelay: number): Promise<void> {
  await control.clearScripts();
  for (const [model, script] of Object.entries(scripts(latency, tokenDelay)))
    await control.script(model, script);
}

const words = (text: string) => text.match(/\s*\S+\s*/g)?.length ?? 0;

/**
 * One fusion through `url`, checked end to end: an answer written from the judge's analysis, and the
 * simulator saw exactly the calls the critical path assumes. Returns the answer's word count (the
 * writer's streamed chunks).
 */
async function verifyFusion(url: string, headers: Record<string, string>, system: string): Promise<number> {
  await control.clearRequests();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(fusionBody(false)).replaceAll("{{i}}", "check"),
    // A broken tree must fail the bench, not hang it: the longest check is 4 calls of the 10k scenario.
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`${system}: check fusion answered ${res.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as {
    choices: Array<{ message: { content: string } }>;
    fusion?: { analysis?: unknown };
  };
  const content = body.choices[0]?.message.content ?? "";
  if (!body.fusion?.analysis || !content.includes("Consensus: All 3 panelists agree")) {
    throw new Error(`${system}: check fusion has no analysis in its answer: ${text.slice(0, 500)}`);
  }
  const recorded = await control.requests();
  const byRole: Record<string, number> = {};
  for (const r of recorded) byRole[r.role ?? "other"] = (byRole[r.role ?? "other"] ?? 0) + 1;
  const expected = { ...CALLS_PER_FUSION } as Record<string, number>;
  const same = Object.keys({ ...byRole, ...expected }).every((k) => (byRole[k] ?? 0) === (expected[k] ?? 0));
  if (!same) {
    throw new Error(
      `${system}: check fusion made upstream calls ${JSON.stringify(byRole)}, expected ${JSON.stringify(expected)}`,
    );
  }
  return words(content);
}

interface Target {
  system: RunRecord["system"];
  url: string;
  headers: Record<string, string>;
  preconnectPath: string;
  /** Processes to watch, by name. */
  pids: Record<string, number>;
  /** Whether Redis belongs to this system. */
  redis: boolean;
}

async function measure(
  target: Target,
  label: string,
  load: Omit<LoadConfig, "url" | "headers" | "preconnectPath">,
): Promise<RunRecord> {
  await control.clearRequests();
  const pids: Record<string, number> = { ...target.pids, simulator: sim.child.pid ?? 0 };
  if (target.redis && redisPid) pids.redis = redisPid;
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procCpuMs(pid) ?? 0]));
  const machineBefore = machineBusyMs();
  const cmdBefore = target.redis ? await commandStats(redis) : undefined;
  const usedBefore = target.redis ? Number((await redisInfo(redis, "memory")).used_memory) / 2 ** 20 : 0;
  const netBefore = target.redis ? await redisInfo(redis, "stats") : undefined;
  const sampler = new PeakSampler(async () => {
    const out: Record<string, number | undefined> = {};
    for (const [k, pid] of Object.entries(pids)) out[k] = procMemory(pid)?.rssMiB;
    if (target.redis)
      out["redis used_memory"] = Number((await redisInfo(redis, "memory")).used_memory) / 2 ** 20;
    return out;
  });
  log(
    `${label} [${target.system}]: ${load.total} requests, ${load.concurrency} at once${load.stream ? ", streaming" : ""}`,
  );
  const started = performance.now();
  let peaks: Record<string, number> = {};
  let loadResult: Awaited<ReturnType<typeof runLoadProcess>>;
  try {
    loadResult = await runLoadProcess({
      ...load,
      url: target.url,
      headers: target.headers,
      preconnectPath: target.preconnectPath,
    });
  } finally {
    peaks = await sampler.stop();
  }
  const { result } = loadResult;
  const elapsed = performance.now() - started;
  const counts = await control.requestCounts();
  const upstreamCalls = counts.total - (counts.byRole.other ?? 0);
  const cpuMs: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) cpuMs[k] = (procCpuMs(pid) ?? 0) - (cpuBefore[k] ?? 0);
  cpuMs.load = result.cpuMs;
  const machineAfter = machineBusyMs();
  const ours = Object.values(cpuMs).reduce((a, b) => a + b, 0);
  // What the rest of the machine (other test suites, say) used meanwhile, in cores on average.
  const foreignCores =
    machineBefore !== undefined && machineAfter !== undefined
      ? Math.max(0, machineAfter - machineBefore - ours) / Math.max(1, elapsed)
      : Number.NaN;
  const sent = (load.warmup ?? 0) + result.ok + result.errors + result.unfinished;
  const cpuMsPerRequest = Object.fromEntries(
    Object.entries(cpuMs).map(([k, v]) => [k, v / Math.max(1, sent)]),
  );
  let redisStats: RunRecord["redis"];
  if (target.redis && cmdBefore) {
    const commands: CommandStat[] = commandStatsDiff(cmdBefore, await commandStats(redis));
    const usedAfter = Number((await redisInfo(redis, "memory")).used_memory) / 2 ** 20;
    const netAfter = await redisInfo(redis, "stats");
    const perRequest = (key: string) =>
      (Number(netAfter[key] ?? 0) - Number(netBefore?.[key] ?? 0)) / Math.max(1, sent);
    // The bench's own probes (INFO every 250 ms, CLIENT LIST) are not the fusions' work.
    const fusionCommands = commands.filter((c) => !BENCH_COMMANDS.has(c.command));
    const calls = (list: CommandStat[]) => list.reduce((a, c) => a + c.calls, 0);
    redisStats = {
      commandsPerRequest: calls(fusionCommands) / Math.max(1, sent),
      scriptsPerRequest:
        calls(fusionCommands.filter((c) => SCRIPT_COMMANDS.has(c.command))) / Math.max(1, sent),
      bytesInPerRequest: perRequest("total_net_input_bytes"),
      bytesOutPerRequest: perRequest("total_net_output_bytes"),
      usedBeforeMiB: usedBefore,
      usedPeakMiB: Math.max(peaks["redis used_memory"] ?? 0, usedAfter),
      usedAfterMiB: usedAfter,
      commands: commands.slice(0, 25),
    };
  }
  const peakRssMiB: Record<string, number> = {};
  for (const [k, v] of Object.entries(peaks)) if (k !== "redis used_memory") peakRssMiB[k] = v;
  const record: RunRecord = {
    system: target.system,
    label,
    stream: load.stream,
    total: load.total,
    concurrency: load.concurrency,
    warmup: load.warmup ?? 0,
    ok: result.ok,
    errors: result.errors,
    unfinished: result.unfinished,
    notStarted: result.notStarted,
    errorKinds: result.errorKinds,
    errorSamples: result.errorSamples,
    e2e: summarize(result.e2eMs),
    ttfb: summarize(result.ttfbMs),
    firstData: summarize(result.firstDataMs),
    wallMs: result.wallMs,
    throughput: (result.ok / Math.max(1, result.wallMs)) * 1000,
    peakOpen: result.peakOpen,
    peakInFlight: result.peakInFlight,
    cpuMs,
    cpuMsPerRequest,
    peakRssMiB,
    foreignCores,
    upstreamCallsPerRequest: upstreamCalls / Math.max(1, sent),
    upstreamCallsByRole: counts.byRole,
    ...(redisStats ? { redis: redisStats } : {}),
  };
  log(
    `  ok ${record.ok}, errors ${record.errors}, unfinished ${record.unfinished}, not started ${record.notStarted}; e2e p50 ${record.e2e.p50.toFixed(1)} p99 ${record.e2e.p99.toFixed(1)} ms; ttfb p99 ${record.ttfb.p99.toFixed(1)} ms; ${record.throughput.toFixed(1)}/s; ${(elapsed / 1000).toFixed(1)} s; other processes ${foreignCores.toFixed(2)} cores`,
  );
  if (record.errorSamples.length)
    log(`  errors: ${JSON.stringify(record.errorKinds)} ${record.errorSamples[0]}`);
  return record;
}

async function withStack<T>(
  scenario: string,
  fn: (target: Target, stack: BenchStack) => Promise<T>,
  overrides: { env?: Record<string, string>; redisClusterNodes?: string } = {},
): Promise<T> {
  const stack = new BenchStack(
    {
      redisUrl: redisFixture.url,
      ...(overrides.redisClusterNodes ? { redisClusterNodes: overrides.redisClusterNodes } : {}),
      simulatorUrl: sim.url,
      env: { ...serviceEnv, ...overrides.env },
      gateways: int(flags.gateways, 1),
      panelWorkers: int(flags["panel-workers"], 1),
      judgeWorkers: int(flags["judge-workers"], 1),
    },
    cpuProf ? join(profileRoot, scenario) : undefined,
  );
  const stop = () => stack.stop();
  cleanups.push(stop);
  try {
    await stack.start();
    const target: Target = {
      system: "fusion",
      url: `${stack.baseUrl}/api/v1/chat/completions`,
      headers: { authorization: `Bearer ${stack.apiKey}` },
      preconnectPath: "/healthz",
      pids: stack.pids(),
      redis: !overrides.redisClusterNodes,
    };
    return await fn(target, stack);
  } catch (err) {
    log(`${scenario}: the services failed; last log lines:\n${stack.logs.split("\n").slice(-30).join("\n")}`);
    throw err;
  } finally {
    await stack.stop();
    cleanups.splice(cleanups.indexOf(stop), 1);
    const logs = stack.logs;
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `${runId}-${scenario}-services.log`), logs);
    for (const line of summarizeLogs(logs)) results.notes.push(`${scenario}: ${line}`);
  }
}

/** Warnings and errors the services logged, counted by service, level and message (the top few). */
function summarizeLogs(logs: string): string[] {
  const counts = new Map<string, { n: number; example: string; delayMs?: number }>();
  for (const line of logs.split("\n")) {
    const m = /^(\S+?)#\d+ (\{.*\})$/.exec(line);
    if (!m) continue;
    let entry: { level?: string; msg?: string; err?: unknown; reason?: unknown; delayMs?: unknown };
    try {
      entry = JSON.parse(m[2] as string);
    } catch {
      continue;
    }
    if (entry.level !== "warn" && entry.level !== "error" && entry.level !== "fatal") continue;
    const key = `${m[1]} ${entry.level} "${entry.msg ?? ""}"`;
    const detail = JSON.stringify(entry.err ?? entry.reason ?? "").slice(0, 160);
    const c = counts.get(key) ?? { n: 0, example: detail };
    c.n++;
    // A worker's "event loop delayed" warning: the largest delay of the run.
    if (typeof entry.delayMs === "number") c.delayMs = Math.max(c.delayMs ?? 0, entry.delayMs);
    counts.set(key, c);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, 6)
    .map(
      ([key, { n, example, delayMs }]) =>
        `${n}× ${key}${delayMs !== undefined ? ` (largest delay ${delayMs} ms)` : ""}${example && example !== '""' ? ` (e.g. ${example})` : ""}`,
    );
}

async function withBaselineProcess<T>(
  scenario: string,
  fn: (target: Target) => Promise<T>,
): Promise<T | undefined> {
  if (!withBaseline) return undefined;
  const baseline: ServerProcess = await startServerProcess(
    "baseline",
    join(benchDir, "baseline.ts"),
    {
      SIM_URL: sim.url,
      KEEPALIVE_MS: "10000",
      ...(flags["baseline-connections"] ? { UPSTREAM_CONNECTIONS: flags["baseline-connections"] } : {}),
    },
    cpuProf ? join(profileRoot, scenario, "baseline") : undefined,
  );
  const stop = () => baseline.stop();
  cleanups.push(stop);
  try {
    return await fn({
      system: "baseline",
      url: `${baseline.url}/v1/chat/completions`,
      headers: {},
      preconnectPath: "/healthz",
      pids: { baseline: baseline.child.pid ?? 0 },
      redis: false,
    });
  } finally {
    await baseline.stop();
    cleanups.splice(cleanups.indexOf(stop), 1);
  }
}

/** The floor (bench/floor.ts): the same upstream calls with nothing else, as its own process. */
async function withFloorProcess<T>(
  scenario: string,
  fn: (target: Target) => Promise<T>,
  connections?: number,
): Promise<T | undefined> {
  if (!withFloor) return undefined;
  const floor: ServerProcess = await startServerProcess(
    "floor",
    join(benchDir, "floor.ts"),
    {
      SIM_URL: sim.url,
      KEEPALIVE_MS: "10000",
      ...(connections ? { FLOOR_CONNECTIONS: String(connections) } : {}),
    },
    cpuProf ? join(profileRoot, scenario, "floor") : undefined,
  );
  const stop = () => floor.stop();
  cleanups.push(stop);
  try {
    return await fn({
      system: "floor",
      url: `${floor.url}/v1/chat/completions`,
      headers: {},
      preconnectPath: "/healthz",
      pids: { floor: floor.child.pid ?? 0 },
      redis: false,
    });
  } finally {
    await floor.stop();
    cleanups.splice(cleanups.indexOf(stop), 1);
  }
}

const fusionTemplate = (stream: boolean) => JSON.stringify(fusionBody(stream));

// ---------------------------------------------------------------- scenarios

async function overheadScenario(): Promise<void> {
  await setLatency(latencyMs, tokenDelayMs);
  const out: NonNullable<BenchResults["scenarios"]["overhead"]> = {
    latencyMs,
    levels: levels.map((concurrency) => ({ concurrency })),
  };
  let answerWords = 0;
  const run = async (target: Target) => {
    answerWords = await verifyFusion(target.url, target.headers, target.system);
    for (const level of out.levels) {
      const c = level.concurrency;
      const record = await measure(target, `overhead c=${c}`, {
        bodyTemplate: fusionTemplate(true),
        stream: true,
        total: overheadRequests(c),
        concurrency: c,
        warmup: quick ? Math.min(c, 20) : c === 1 ? 10 : c,
        timeLimitMs: limit(120_000),
        expect: "fusion",
      });
      if (target.system === "fusion") level.fusion = record;
      else if (target.system === "floor") level.floor = record;
      else level.baseline = record;
    }
    const breakdown = await phaseBreakdown(target, quick ? 5 : 20);
    out.breakdown = { ...out.breakdown, [target.system]: breakdown };
  };
  await withStack("overhead", run);
  await withBaselineProcess("overhead", run);
  await withFloorProcess("overhead", run);
  // Streamed chunks of the writer's answer: role, one per word, finish, usage, then [DONE].
  results.criticalPathMs.overhead = CRITICAL_PATH_CALLS * latencyMs + tokenDelayMs * (answerWords + 3);
  results.scenarios.overhead = out;
}

/**
 * Where the time of one fusion goes, from the simulator's arrival times of its calls (ms clock): `n`
 * streaming fusions one at a time, medians of each phase. Each call answers `latencyMs` after it
 * arrives (no token delay here), so the gaps between calls are what the pipeline itself adds.
 */
async function phaseBreakdown(target: Target, n: number): Promise<Record<string, number>> {
  const phases: Record<string, number[]> = {};
  const push = (k: string, v: number) => {
    phases[k] = [...(phases[k] ?? []), v];
  };
  for (let i = 0; i < n; i++) {
    await control.clearRequests();
    const t0 = Date.now();
    const res = await fetch(target.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...target.headers },
      body: fusionTemplate(true).replaceAll("{{i}}", `phase-${i}`),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    const end = Date.now();
    if (!text.includes("[DONE]"))
      throw new Error(`${target.system}: phase probe got no [DONE]: ${text.slice(0, 300)}`);
    const calls = await control.requests();
    const L = latencyMs;
    const hasTool = (body: unknown) =>
      ((body as { messages?: Array<{ role: string }> }).messages ?? []).some((m) => m.role === "tool");
    const first = calls.filter((c) => c.role === "panelist" && !hasTool(c.body)).map((c) => c.at);
    const second = calls.filter((c) => c.role === "panelist" && hasTool(c.body));
    const judge = calls.find((c) => c.role === "judge")?.at;
    const writer = calls.find((c) => c.role === "writer")?.at;
    if (first.length !== 3 || second.length !== 3 || judge === undefined || writer === undefined) {
      throw new Error(`${target.system}: phase probe saw calls ${JSON.stringify(calls.map((c) => c.role))}`);
    }
    const firstOf = new Map(
      calls.filter((c) => c.role === "panelist" && !hasTool(c.body)).map((c) => [c.model, c.at]),
    );
    push("request → first panel call", Math.min(...first) - t0);
    push("first → last panel call started", Math.max(...first) - Math.min(...first));
    for (const c of second)
      push("panel tool step (answer → next call)", c.at - ((firstOf.get(c.model) ?? c.at) + L));
    push("last panel answer → judge call", judge - (Math.max(...second.map((c) => c.at)) + L));
    push("judge answer → writer call", writer - (judge + L));
    push("writer answer → client has [DONE]", end - (writer + L));
    push("e2e − critical path", end - t0 - CRITICAL_PATH_CALLS * L);
  }
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, summarize(v).p50]));
}

async function throughputScenario(): Promise<void> {
  await setLatency(0, 0);
  const out: NonNullable<BenchResults["scenarios"]["throughput"]> = { nonStreaming: {}, streaming: {} };
  const run = async (target: Target) => {
    await verifyFusion(target.url, target.headers, target.system);
    for (const stream of [false, true]) {
      const record = await measure(target, `throughput ${stream ? "streaming" : "non-streaming"}`, {
        bodyTemplate: fusionTemplate(stream),
        stream,
        total: throughputRequests,
        concurrency: throughputConcurrency,
        warmup: quick ? throughputConcurrency : 2 * throughputConcurrency,
        timeLimitMs: limit(90_000),
        expect: "fusion",
      });
      const slot = stream ? out.streaming : out.nonStreaming;
      if (target.system === "fusion") slot.fusion = record;
      else if (target.system === "floor") slot.floor = record;
      else slot.baseline = record;
    }
  };
  await withStack("throughput", run);
  await withBaselineProcess("throughput", run);
  await withFloorProcess("throughput", run);
  results.criticalPathMs.throughput = 0;
  results.scenarios.throughput = out;
}

async function concurrencyScenario(): Promise<void> {
  await setLatency(streamLatencyMs, 0);
  const out: NonNullable<BenchResults["scenarios"]["concurrency"]> = { latencyMs: streamLatencyMs };
  const run = async (target: Target) => {
    await verifyFusion(target.url, target.headers, target.system);
    const record = await measure(target, `concurrency ${streams} streams`, {
      bodyTemplate: fusionTemplate(true),
      stream: true,
      total: streams,
      concurrency: streams,
      // 1,000 new connections a second: a default listen queue (511) takes that without dropping.
      rampMs: Math.round(streams / 1000) * 1000,
      warmup: quick ? 10 : 50,
      timeLimitMs: limit(240_000),
      expect: "fusion",
    });
    if (target.system === "fusion") out.fusion = record;
    else if (target.system === "floor") out.floor = record;
    else out.baseline = record;
  };
  await withStack("concurrency", run);
  await withBaselineProcess("concurrency", run);
  // The floor gets the services' pool size (UPSTREAM_CONNECTIONS default 2,048), as its default.
  await withFloorProcess("concurrency", run);
  results.criticalPathMs.concurrency = CRITICAL_PATH_CALLS * streamLatencyMs;
  results.scenarios.concurrency = out;
}

async function passthroughScenario(): Promise<void> {
  // The plain model is never scripted: the simulator answers it at once.
  await control.clearScripts();
  const cases = [
    { label: "non-streaming c=1", stream: false, concurrency: 1 },
    { label: "streaming c=1", stream: true, concurrency: 1 },
    { label: "non-streaming c=50", stream: false, concurrency: 50 },
  ];
  const out: NonNullable<BenchResults["scenarios"]["passthrough"]> = cases.map((c) => ({ label: c.label }));
  await withStack("passthrough", async (gateway) => {
    const direct: Target = {
      system: "direct",
      url: `${sim.url}/v1/chat/completions`,
      headers: {},
      preconnectPath: "/_sim/health",
      pids: {},
      redis: false,
    };
    for (const [i, c] of cases.entries()) {
      const slot = out[i] as (typeof out)[number];
      const total = c.concurrency === 1 ? passthroughRequests : passthroughRequests * 2;
      const load = {
        bodyTemplate: JSON.stringify(plainBody(c.stream)),
        stream: c.stream,
        total,
        concurrency: c.concurrency,
        warmup: Math.min(200, total / 10),
        timeLimitMs: limit(60_000),
        expect: "plain" as const,
      };
      slot.direct = await measure(direct, `pass-through ${c.label}`, load);
      slot.gateway = await measure(gateway, `pass-through ${c.label}`, load);
    }
  });
  results.scenarios.passthrough = out;
}

/**
 * Where a fusion's Redis commands go: `countFusions` non-streaming, then as many streaming fusions,
 * one at a time (L = 0), under MONITOR; each command charged to a stage (see lib/monitor-counts.ts).
 */
async function countsScenario(): Promise<void> {
  await setLatency(0, 0);
  const out: NonNullable<BenchResults["scenarios"]["counts"]> = {};
  const redisPort = Number(new URL(redisFixture.url).port);
  await withStack("counts", async (target, stack) => {
    await verifyFusion(target.url, target.headers, target.system);
    const monitorClient = new Redis(redisFixture.url, { maxRetriesPerRequest: 2 });
    try {
      for (const stream of [false, true]) {
        log(`counts: ${countFusions} ${stream ? "streaming" : "non-streaming"} fusions under MONITOR`);
        const counts = await captureCommands(
          redis,
          monitorClient,
          redisPort,
          stack.pids(),
          countFusions,
          async () => {
            for (let i = 0; i < countFusions; i++) {
              const res = await fetch(target.url, {
                method: "POST",
                headers: { "content-type": "application/json", ...target.headers },
                body: fusionTemplate(stream).replaceAll("{{i}}", `count-${stream}-${i}`),
                signal: AbortSignal.timeout(60_000),
              });
              const text = await res.text();
              if (res.status !== 200 || !text.includes('"analysis":'))
                throw new Error(`counts: fusion answered ${res.status}: ${text.slice(0, 300)}`);
            }
          },
        );
        if (stream) out.streaming = counts;
        else out.nonStreaming = counts;
      }
    } finally {
      monitorClient.disconnect();
    }
  });
  results.scenarios.counts = out;
}

/** RSS of each process now, MiB. */
function rssNow(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) {
    const m = procMemory(pid);
    if (m) out[k] = m.rssMiB;
  }
  return out;
}

/**
 * 10,000 concurrent streaming fusions at 3 s per upstream call (a 12 s critical path), ramped in at
 * 1,000 a second: errors, peak open at once, memory per fusion in flight, Redis's peak. The services'
 * worker slots, gateway connections and upstream pools are raised to hold them all; the floor gets
 * the same pool size as both workers together. Not in the default list: it takes minutes.
 */
async function concurrency10kScenario(): Promise<void> {
  await setLatency(latency10k, 0);
  const out: NonNullable<BenchResults["scenarios"]["concurrency10k"]> = {
    latencyMs: latency10k,
    upstreamConnections: connections10k,
  };
  const run = async (target: Target) => {
    await verifyFusion(target.url, target.headers, target.system);
    const idle = rssNow(target.pids);
    const record = await measure(target, `concurrency10k ${streams10k} streams`, {
      bodyTemplate: fusionTemplate(true),
      stream: true,
      total: streams10k,
      concurrency: streams10k,
      rampMs: Math.max(1000, Math.round(streams10k / 1000) * 1000),
      warmup: quick ? 10 : 50,
      timeLimitMs: limit(600_000),
      drainMs: 120_000,
      expect: "fusion",
    });
    record.idleRssMiB = idle;
    if (target.system === "fusion") out.fusion = record;
    else if (target.system === "floor") out.floor = record;
    else out.baseline = record;
  };
  await withStack("concurrency10k", run, {
    env: {
      // A worker takes at most 10,000 slots per queue; the upstream pool (6,000) binds first anyway.
      PANEL_CONCURRENCY: String(Math.min(10_000, 3 * streams10k + 100)),
      JUDGE_CONCURRENCY: String(Math.min(10_000, streams10k + 100)),
      TURN_CONCURRENCY: String(Math.min(10_000, streams10k + 100)),
      UPSTREAM_CONNECTIONS: String(connections10k),
      MAX_CONNECTIONS: String(streams10k + 2000),
    },
  });
  // Both workers' pools together, but the floor holds its 10,000 client sockets in the same process:
  // at most 8,000 upstream sockets keep it under a 20,000-descriptor limit.
  await withFloorProcess("concurrency10k", run, Math.min(2 * connections10k, 8000));
  results.criticalPathMs.concurrency10k = CRITICAL_PATH_CALLS * latency10k;
  results.scenarios.concurrency10k = out;
}

/**
 * Queue shards on a 3-master Redis Cluster (the testing package's fixture): the same throughput run
 * (non-streaming, 50 at once, L = 0) with QUEUE_SHARDS=1 and then 3, each on a fresh stack, and the
 * commands each master ran (INFO commandstats on every master, before and after).
 */
async function shardsScenario(): Promise<void> {
  await setLatency(0, 0);
  log("shards: starting a 3-master Redis Cluster");
  const cluster = await startRedisCluster({ masters: 3 });
  cleanups.push(() => cluster.close());
  const out: NonNullable<BenchResults["scenarios"]["shards"]> = [];
  try {
    const masters = cluster.ports.slice(0, 3);
    const statsOf = async () =>
      Promise.all(masters.map(async (port) => ({ port, stats: await commandStats(cluster.node(port)) })));
    const masterPids = Object.fromEntries(
      await Promise.all(
        masters.map(async (port) => [
          `redis:${port}`,
          localRedisPid(Number((await redisInfo(cluster.node(port), "server")).process_id)) ?? 0,
        ]),
      ),
    );
    for (const shards of [1, 3]) {
      await withStack(
        `shards-${shards}`,
        async (target) => {
          await verifyFusion(target.url, target.headers, target.system);
          const before = await statsOf();
          const record = await measure(
            { ...target, pids: { ...target.pids, ...masterPids } },
            `shards=${shards}`,
            {
              bodyTemplate: fusionTemplate(false),
              stream: false,
              total: shardFusions,
              concurrency: 50,
              warmup: 50,
              timeLimitMs: limit(120_000),
              expect: "fusion",
            },
          );
          const after = await statsOf();
          const commandsByMaster: Record<string, number> = {};
          const scriptsByMaster: Record<string, number> = {};
          for (const [i, { port, stats }] of after.entries()) {
            const diff = commandStatsDiff(before[i]?.stats ?? new Map(), stats).filter(
              (c) => !BENCH_COMMANDS.has(c.command),
            );
            commandsByMaster[String(port)] = diff.reduce((a, c) => a + c.calls, 0);
            scriptsByMaster[String(port)] = diff
              .filter((c) => SCRIPT_COMMANDS.has(c.command))
              .reduce((a, c) => a + c.calls, 0);
          }
          out.push({ shards, record, commandsByMaster, scriptsByMaster });
        },
        { env: { QUEUE_SHARDS: String(shards) }, redisClusterNodes: cluster.nodesEnv },
      );
    }
  } finally {
    await cluster.close();
  }
  results.scenarios.shards = out;
}

/**
 * Interactive fusions (streaming, L = 100 ms, 10 at once) on an idle stack, then beside a batch of
 * fusions submitted through the Batch API, then beside as many async fusions, then (the control) beside
 * as many interactive fusions held open, which share the queues at the same priority; then idle again
 * (the run-to-run spread). The workers run at their production concurrency (64 panel, 64 judge, 256
 * turn slots; `--background-worker-concurrency`), where queue priorities decide who waits for a slot
 * once the slots, not the CPU, are what runs out; the batch at its production per-key cap. Not in the
 * default list.
 */
async function backgroundScenario(): Promise<void> {
  await setLatency(latencyMs, tokenDelayMs);
  const out: NonNullable<BenchResults["scenarios"]["background"]> = { latencyMs, runs: [] };
  const [panel, judge, turn] = (flags["background-worker-concurrency"] ?? "").split(",");
  const env = {
    PANEL_CONCURRENCY: panel ?? "64",
    JUDGE_CONCURRENCY: judge ?? "64",
    TURN_CONCURRENCY: turn ?? "256",
  };
  out.workerConcurrency = env;
  await withStack(
    "background",
    async (target, stack) => {
      await verifyFusion(target.url, target.headers, target.system);
      const context: BackgroundContext = {
        baseUrl: stack.baseUrl,
        apiKey: stack.apiKey,
        redis,
        batchFusionIds: (batchId, lines) => {
          const shards = queueShards(stack.prefix, 1);
          return Array.from({ length: lines }, (_, i) => lineFusionId(shards, batchId, i));
        },
        log,
        warmFusions: 20,
        timeoutMs: limit(600_000),
        measureInteractive: (label, warmup) =>
          measure(target, label, {
            bodyTemplate: fusionTemplate(true),
            stream: true,
            total: backgroundInteractive,
            concurrency: 10,
            warmup,
            timeLimitMs: limit(180_000),
            expect: "fusion",
          }),
      };
      out.idle = await context.measureInteractive("interactive, idle", 10);
      for (const kind of backgroundKinds) {
        if (kind === "batch") out.runs.push(await besideBatch(context, backgroundFusions));
        else if (kind === "async") out.runs.push(await besideAsync(context, backgroundFusions));
        else if (kind === "held") out.runs.push(await besideHeld(context, backgroundFusions));
        else throw new Error(`--background-kinds: unknown kind "${kind}"`);
      }
      out.idleAfter = await context.measureInteractive("interactive, idle again", 0);
    },
    { env },
  );
  results.criticalPathMs.background = CRITICAL_PATH_CALLS * latencyMs;
  results.scenarios.background = out;
}

// ---------------------------------------------------------------- main

let failed = false;
try {
  const order: Array<[string, () => Promise<void>]> = [
    ["passthrough", passthroughScenario],
    ["overhead", overheadScenario],
    ["throughput", throughputScenario],
    ["concurrency", concurrencyScenario],
    ["counts", countsScenario],
    ["concurrency10k", concurrency10kScenario],
    ["shards", shardsScenario],
    ["background", backgroundScenario],
  ];
  for (const [name, fn] of order) {
    if (!scenarioNames.has(name)) continue;
    const t0 = performance.now();
    log(`scenario ${name}`);
    await fn();
    log(`scenario ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
} catch (err) {
  failed = true;
  log(`bench failed: ${(err as Error).stack ?? err}`);
  results.notes.push(`the run failed: ${(err as Error).message}`);
}
results.finishedAt = new Date().toISOString();
results.machine.loadAvgAtEnd = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");

if (cpuProf) {
  // The profiles are written when the processes exit, which they have by now.
  results.profiles = {};
  for (const scenario of scenarioNames) {
    const dir = join(profileRoot, scenario);
    try {
      results.profiles[scenario] = summarizeProfiles(dir, { top: 15 });
    } catch (err) {
      results.profiles[scenario] = `no profile summary: ${(err as Error).message}`;
    }
  }
}

mkdirSync(resultsDir, { recursive: true });
const resultsFile = join(resultsDir, `${runId}${quick ? "-quick" : ""}.json`);
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
const report = renderReport(results);
writeFileSync(resultsFile.replace(/\.json$/, ".md"), `${renderReport(results, true)}\n`);
process.stdout.write(`\n${report}\n`);
if (results.profiles?.throughput)
  process.stdout.write(`\nCPU profiles, throughput scenario:\n${results.profiles.throughput}\n`);
process.stdout.write(`\nresults: ${resultsFile}\n`);
await cleanup();
process.exit(failed ? 1 : 0);
