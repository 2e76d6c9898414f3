/**
 * Summarises V8 .cpuprofile files (from `--cpu-prof`): self time by function and by package, so that
 * it is plain where a service spends its CPU. Self time of a node is the sum of the sampling intervals
 * that landed in it (timeDeltas), not hitCount × a nominal interval.
 *
 *   node bench/profile-summary.ts bench/profiles/<run>/throughput          # every service under it
 *   node bench/profile-summary.ts path/to/CPU.….cpuprofile --top 30
 *
 * A folder is read recursively; the profiles in one folder (one service, as `pnpm bench --cpu-prof`
 * lays them out) are added together.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  key: string;
  /** Microseconds. */
  selfUs: number;
}

export interface ProfileSummary {
  /** Wall time covered by the profiles, microseconds. */
  totalUs: number;
  /** Time in (idle), microseconds. */
  idleUs: number;
  /** Time in (garbage collector), microseconds. */
  gcUs: number;
  functions: SelfTime[];
  packages: SelfTime[];
  /** Self time by package, where natives and Node's own code count for the nearest library or project caller. */
  callerPackages: SelfTime[];
  /** Inclusive time (self plus callees) of the project's own functions: which of our code paths cost what. */
  fusionInclusive: SelfTime[];
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** `node_modules/.pnpm/x@1/node_modules/@scope/name/...` → `@scope/name`; `node:internal/...` → `node:internal`. */
function packageOf(url: string, functionName: string): string {
  if (SPECIAL.has(functionName) && !url) return functionName;
  if (!url) return "(native)";
  if (url.startsWith("wasm://")) return "wasm (undici's llhttp; cjs-module-lexer at start-up)";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:"))
    return url.startsWith("node:internal") ? "node:internal" : (url.split("/")[0] as string);
  const m = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (m) return `fusion:${m[2]}`;
  if (url.includes("/bench/")) return "fusion:bench";
  return url.replace(/^file:\/\//, "");
}

function shortUrl(url: string): string {
  if (!url) return "";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) return url.slice(nm + "/node_modules/".length);
  const m = /\/((?:packages|services|bench)\/.*)$/.exec(url);
  return m ? (m[1] as string) : url.replace(/^file:\/\//, "");
}

function summarize(profiles: CpuProfile[]): ProfileSummary {
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const byCaller = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  let gcUs = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    // timeDeltas[i] is the time before sample i: the interval after a sample belongs to what it caught running.
    for (let i = 0; i < samples.length; i++) {
      const next = deltas[i + 1] ?? 0;
      const id = samples[i] as number;
      self.set(id, (self.get(id) ?? 0) + Math.max(0, next));
    }
    totalUs += profile.endTime - profile.startTime;
    const callerPackage = (id: number): string => {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const n = nodes.get(cur);
        const url = n?.callFrame.url;
        if (url && !url.startsWith("node:")) return packageOf(url, n.callFrame.functionName);
      }
      return "node (no library caller)";
    };
    for (const [id, us] of self) {
      const node = nodes.get(id);
      if (!node) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === "(idle)") {
        idleUs += us;
        continue;
      }
      if (functionName === "(garbage collector)") gcUs += us;
      const name = functionName || "(anonymous)";
      add(byFunction, url ? `${name} ${shortUrl(url)}:${lineNumber + 1}` : name, us);
      add(byPackage, packageOf(url, functionName), us);
      add(byCaller, SPECIAL.has(functionName) ? functionName : callerPackage(id), us);
      // Inclusive time of our own functions: each distinct one on the stack once.
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = nodes.get(cur)?.callFrame;
        if (!f?.url || !/\/(packages|services)\//.test(f.url) || f.url.includes("/node_modules/")) continue;
        const key = `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
        if (seen.has(key)) continue;
        seen.add(key);
        add(inclusive, key, us);
      }
    }
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].map(([key, selfUs]) => ({ key, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
  return {
    totalUs,
    idleUs,
    gcUs,
    functions: sorted(byFunction),
    packages: sorted(byPackage),
    callerPackages: sorted(byCaller),
    fusionInclusive: sorted(inclusive),
  };
}

function renderSummary(name: string, s: ProfileSummary, top: number): string {
  const busy = s.totalUs - s.idleUs;
  const pct = (us: number) => `${((us / Math.max(1, busy)) * 100).toFixed(1)}%`.padStart(6);
  const msOf = (us: number) => `${(us / 1000).toFixed(0)} ms`.padStart(9);
  const lines = [
    `${name}: ${(s.totalUs / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / Math.max(1, s.totalUs)) * 100).toFixed(0)}%), GC ${pct(s.gcUs).trim()} of busy`,
    `  by package: ${s.packages
      .slice(0, 10)
      .map((p) => `${p.key} ${((p.selfUs / Math.max(1, busy)) * 100).toFixed(1)}%`)
      .join(", ")}`,
    `  by package, Node internals charged to their caller: ${s.callerPackages
      .slice(0, 10)
      .map((p) => `${p.key} ${((p.selfUs / Math.max(1, busy)) * 100).toFixed(1)}%`)
      .join(", ")}`,
    "  top self time:",
    ...s.functions.slice(0, top).map((f) => `  ${msOf(f.selfUs)} ${pct(f.selfUs)}  ${f.key}`),
    "  our functions, inclusive of what they call:",
    ...s.fusionInclusive
      .slice(0, Math.ceil(top / 2))
      .map((f) => `  ${msOf(f.selfUs)} ${pct(f.selfUs)}  ${f.key}`),
  ];
  return lines.join("\n");
}

/** Self time of the functions whose name holds `name`, grouped by their callers (`depth` frames up). */
function callerStacks(profiles: CpuProfile[], name: string, depth = 8): SelfTime[] {
  const byStack = new Map<string, number>();
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] as number;
      const node = nodes.get(id);
      if (!node?.callFrame.functionName.includes(name)) continue;
      const frames: string[] = [];
      for (let cur = parent.get(id); cur !== undefined && frames.length < depth; cur = parent.get(cur)) {
        const f = nodes.get(cur)?.callFrame;
        if (!f || f.functionName === "(root)") break;
        frames.push(`${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`);
      }
      const key = `${node.callFrame.functionName} ← ${frames.join(" ← ")}`;
      byStack.set(key, (byStack.get(key) ?? 0) + Math.max(0, deltas[i + 1] ?? 0));
    }
  }
  return [...byStack.entries()].map(([key, selfUs]) => ({ key, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
}

function profileFiles(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path)) {
    const full = join(path, entry);
    if (statSync(full).isDirectory()) out.push(...profileFiles(full));
    else if (entry.endsWith(".cpuprofile")) out.push(full);
  }
  return out;
}

/** Reads every profile under `path`, grouped by the folder that holds it, and renders each group. */
export function summarizeProfiles(path: string, options: { top?: number } = {}): string {
  const files = profileFiles(path);
  if (files.length === 0) throw new Error(`no .cpuprofile under ${path}`);
  const groups = new Map<string, string[]>();
  for (const file of files) {
    const group = statSync(path).isFile() ? basename(file) : relative(path, dirname(file)) || basename(path);
    groups.set(group, [...(groups.get(group) ?? []), file]);
  }
  const parts: string[] = [];
  for (const [group, list] of [...groups.entries()].sort()) {
    const profiles = list.map((f) => JSON.parse(readFileSync(f, "utf8")) as CpuProfile);
    parts.push(renderSummary(group, summarize(profiles), options.top ?? 15));
  }
  return parts.join("\n\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: { top: { type: "string", default: "20" }, callers: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    process.stderr.write(
      "usage: node bench/profile-summary.ts <profile-or-folder>... [--top N] [--callers FUNCTION_NAME]\n",
    );
    process.exit(2);
  }
  for (const p of positionals) {
    if (values.callers) {
      const profiles = profileFiles(p).map((f) => JSON.parse(readFileSync(f, "utf8")) as CpuProfile);
      for (const s of callerStacks(profiles, values.callers).slice(0, Number(values.top))) {
        process.stdout.write(`${(s.selfUs / 1000).toFixed(0).padStart(7)} ms  ${s.key}\n`);
      }
      continue;
    }
    process.stdout.write(`${summarizeProfiles(p, { top: Number(values.top) })}\n\n`);
  }
}
