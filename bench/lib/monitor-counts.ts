/**
 * Where a fusion's Redis commands go: a MONITOR capture of a few fusions, each command attributed to
 * the process whose connection sent it (its client address mapped to a pid with `ss`, and to the
 * connection's name from CLIENT LIST) and to a stage by the keys it touches. Commands a Lua script
 * runs (MONITOR's `lua` source) are counted apart and charged to the script call that ran them.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Redis } from "ioredis";

interface StageCount {
  stage: string;
  /** Commands sent over a connection (round trips' worth, pipelined or not). */
  sent: number;
  /** Of those, script calls (EVALSHA, EVAL, FCALL and their read-only forms). */
  scripts: number;
  /** Commands that the scripts sent by this stage ran inside Redis. */
  inScripts: number;
  /** Top commands sent, with counts. */
  top: Record<string, number>;
  /** The commands its scripts ran inside Redis, with counts. */
  topInScripts?: Record<string, number>;
}

export interface MonitorCounts {
  fusions: number;
  stages: StageCount[];
  /** Sent commands per connection name (CLIENT SETNAME), all fusions. */
  byConnection: Record<string, number>;
}

export const SCRIPT_COMMANDS = new Set(["evalsha", "eval", "fcall", "evalsha_ro", "eval_ro", "fcall_ro"]);

/**
 * Client address (`ip:port`) → owning pid, for the connections of `pids` to `redisPort` on loopback:
 * the sockets of /proc/net/tcp whose peer is Redis, matched by inode to the processes' descriptors.
 */
function addressOwners(redisPort: number, pids: number[]): Map<string, number> {
  const byInode = new Map<string, string>();
  let table = "";
  try {
    table = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return new Map();
  }
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const [local, remote, inode] = [cols[1], cols[2], cols[9]];
    if (!local || !remote || !inode) continue;
    if (Number.parseInt(remote.split(":")[1] ?? "", 16) !== redisPort) continue;
    const [hexIp, hexPort] = local.split(":");
    const ip = (hexIp?.match(/../g) ?? [])
      .reverse()
      .map((b) => Number.parseInt(b, 16))
      .join(".");
    byInode.set(inode, `${ip}:${Number.parseInt(hexPort ?? "", 16)}`);
  }
  const out = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        const addr = inode ? byInode.get(inode) : undefined;
        if (addr) out.set(addr, pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

async function connectionNames(redis: Redis): Promise<Map<string, string>> {
  const list = (await redis.client("LIST")) as string;
  const out = new Map<string, string>();
  for (const line of list.split("\n")) {
    const addr = /\baddr=(\S+)/.exec(line)?.[1];
    const name = /\bname=(\S*)/.exec(line)?.[1];
    if (addr) out.set(addr, name || "(unnamed)");
  }
  return out;
}

/** The stage of one command, from the process that sent it and the keys it names. */
function stageOf(service: string, args: string[]): string {
  const text = args.slice(1).join(" ");
  const queue = /\}:(panel|judge|turn):/.exec(text)?.[1] ?? /:(panel|judge|turn):/.exec(text)?.[1];
  const cmd = (args[0] ?? "").toLowerCase();
  if (service.startsWith("gateway")) {
    if (
      /^(xread|xrange|xrevrange|subscribe|unsubscribe|ssubscribe|sunsubscribe|incr|decr|hincrby)$/.test(
        cmd,
      ) &&
      /:(events|live|readers)\b/.test(text)
    )
      return "gateway: relay (reads the fusion's events)";
    if (queue) return "gateway: enqueue (the flow)";
    return "gateway: admission (limits, meta, owner index)";
  }
  if (service.startsWith("panel-worker"))
    return queue && queue !== "panel" ? `panel-worker: ${queue} queue` : "panel-worker: panel jobs";
  if (service.startsWith("judge-worker")) {
    if (queue === "judge") return "judge-worker: judge job (queue)";
    if (queue === "turn") return "judge-worker: writer/turn job (queue)";
    return "judge-worker: events, leases, state (judge + writer)";
  }
  return `${service}: other`;
}

/**
 * Runs `work` (a few fusions, one at a time) under MONITOR on `monitorClient` (a dedicated
 * connection) and attributes every command. `services` maps a pid to its service name.
 */
export async function captureCommands(
  redis: Redis,
  monitorClient: Redis,
  redisPort: number,
  services: Record<string, number>,
  fusions: number,
  work: () => Promise<void>,
): Promise<MonitorCounts> {
  const names = await connectionNames(redis);
  const pids = Object.values(services);
  let owners = addressOwners(redisPort, pids);
  const byPid = new Map(Object.entries(services).map(([name, pid]) => [pid, name]));
  const lines: Array<{ source: string; args: string[] }> = [];
  const monitor = await monitorClient.monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    lines.push({ source, args });
  });
  try {
    await work();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    monitor.disconnect();
  }
  // Connections opened during the capture (BullMQ duplicates) are looked up again.
  const lateNames = await connectionNames(redis);
  for (const [k, v] of lateNames) if (!names.has(k)) names.set(k, v);
  const lateOwners = addressOwners(redisPort, pids);
  owners = new Map([...lateOwners, ...owners]);

  const stages = new Map<string, StageCount>();
  const byConnection: Record<string, number> = {};
  let lastStage: StageCount | undefined;
  for (const { source, args } of lines) {
    const cmd = (args[0] ?? "").toLowerCase();
    if (source === "lua") {
      if (lastStage) {
        lastStage.inScripts++;
        const inner = lastStage.topInScripts ?? {};
        inner[cmd] = (inner[cmd] ?? 0) + 1;
        lastStage.topInScripts = inner;
      }
      continue;
    }
    const pid = owners.get(source);
    const service = (pid !== undefined ? byPid.get(pid) : undefined) ?? "bench or unknown";
    if (service === "bench or unknown" && /^(info|client|monitor|ping)$/.test(cmd)) continue;
    const name = names.get(source) ?? "(unknown)";
    byConnection[`${service} ${name}`] = (byConnection[`${service} ${name}`] ?? 0) + 1;
    const stage = stageOf(service, args);
    const s = stages.get(stage) ?? { stage, sent: 0, scripts: 0, inScripts: 0, top: {} };
    s.sent++;
    if (SCRIPT_COMMANDS.has(cmd)) s.scripts++;
    s.top[cmd] = (s.top[cmd] ?? 0) + 1;
    stages.set(stage, s);
    lastStage = SCRIPT_COMMANDS.has(cmd) ? s : lastStage;
  }
  return {
    fusions,
    stages: [...stages.values()].sort((a, b) => a.stage.localeCompare(b.stage)),
    byConnection,
  };
}
