/** Reads what the processes and Redis use: RSS and CPU time from /proc, memory and command stats from INFO. */
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ); 100 on every common Linux. */
const USER_HZ = 100;

export interface ProcMemory {
  /** Resident set size now, in MiB. */
  rssMiB: number;
  /** Peak resident set size since the process started (VmHWM), in MiB. */
  peakMiB: number;
}

export function procMemory(pid: number | undefined): ProcMemory | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rssMiB: kb("VmRSS") / 1024, peakMiB: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

/** User + system CPU time the process has used so far, in milliseconds. */
export function procCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** CPU time the whole machine has been busy (all cores, everything but idle and iowait), in milliseconds. */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (
      (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) /
      USER_HZ
    );
  } catch {
    return undefined;
  }
}

/** `INFO <section>` as a flat record of its `key:value` lines. */
export async function redisInfo(redis: Redis, section: string): Promise<Record<string, string>> {
  const text = await redis.info(section);
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface CommandStat {
  command: string;
  calls: number;
  usec: number;
}

/** `INFO commandstats` as calls and total microseconds per command. */
export async function commandStats(redis: Redis): Promise<Map<string, CommandStat>> {
  const info = await redisInfo(redis, "commandstats");
  const out = new Map<string, CommandStat>();
  for (const [key, value] of Object.entries(info)) {
    if (!key.startsWith("cmdstat_")) continue;
    const command = key.slice("cmdstat_".length);
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
    const usec = Number(/usec=(\d+)/.exec(value)?.[1] ?? 0);
    out.set(command, { command, calls, usec });
  }
  return out;
}

/** What was run between two snapshots, most expensive first. */
export function commandStatsDiff(
  before: Map<string, CommandStat>,
  after: Map<string, CommandStat>,
): CommandStat[] {
  const out: CommandStat[] = [];
  for (const [command, a] of after) {
    const b = before.get(command);
    const calls = a.calls - (b?.calls ?? 0);
    const usec = a.usec - (b?.usec ?? 0);
    if (calls > 0) out.push({ command, calls, usec });
  }
  return out.sort((x, y) => y.usec - x.usec);
}

/** Samples values at an interval and keeps the largest of each; `stop()` returns them. */
export class PeakSampler {
  readonly #peaks = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;

  constructor(probe: () => Promise<Record<string, number | undefined>>, intervalMs = 250) {
    const tick = async () => {
      try {
        const values = await probe();
        for (const [k, v] of Object.entries(values)) {
          if (v !== undefined && Number.isFinite(v)) this.#peaks.set(k, Math.max(this.#peaks.get(k) ?? v, v));
        }
      } catch {
        // a probe that fails once (e.g. Redis busy) is skipped
      }
    };
    this.#timer = setInterval(() => {
      if (!this.#running) this.#running = tick().finally(() => (this.#running = undefined));
    }, intervalMs);
    this.#running = tick().finally(() => (this.#running = undefined));
  }

  async stop(): Promise<Record<string, number>> {
    clearInterval(this.#timer);
    await this.#running;
    return Object.fromEntries(this.#peaks);
  }
}
