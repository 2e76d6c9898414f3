/** The bench's child processes: the simulator, the baseline, the load generator, and the services' Stack. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type ServiceName, Stack, type StackOptions } from "@fusion/testing";
import type { LoadConfig, LoadResult } from "../load.ts";

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), "..");
export const rootDir = join(benchDir, "..");

export interface ServerProcess {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Stops a child we started: SIGTERM, then SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Starts a Node script that prints one JSON line with its `url` once it listens. */
export async function startServerProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  cpuProfDir?: string,
): Promise<ServerProcess> {
  const nodeOptions = cpuProfDir ? cpuProfOptions(cpuProfDir) : undefined;
  const child = spawn(process.execPath, [script], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...env,
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 30 s: ${stderr}`)), 30_000);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
    lines.on("line", (line) => {
      try {
        const parsed = JSON.parse(line) as { url?: string };
        if (parsed.url) {
          clearTimeout(timer);
          resolve(parsed.url);
        }
      } catch {
        // not the line we wait for
      }
    });
  });
  lines.on("line", () => {}); // keep draining its output
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping)
      process.stderr.write(`[bench] ${name} exited unexpectedly (${code ?? signal}):\n${stderr}\n`);
  });
  return {
    name,
    url,
    child,
    stop: () => {
      stopping = true;
      return stopChild(child, 30_000);
    },
  };
}

function cpuProfOptions(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return `--cpu-prof --cpu-prof-dir=${dir}`;
}

/**
 * The real services as Stack runs them, plus: each service can write a CPU profile into its own
 * folder, and stopping waits long enough for a profile to be written.
 */
export class BenchStack extends Stack {
  readonly cpuProfDir: string | undefined;
  #spawning: string | undefined;

  constructor(options: StackOptions, cpuProfDir?: string) {
    super(options);
    this.cpuProfDir = cpuProfDir;
  }

  override env(): Record<string, string> {
    const env = super.env();
    if (this.cpuProfDir && this.#spawning)
      env.NODE_OPTIONS = cpuProfOptions(join(this.cpuProfDir, this.#spawning));
    return env;
  }

  override spawn(name: ServiceName, index: number, port?: number) {
    this.#spawning = `${name}-${index}`;
    try {
      return super.spawn(name, index, port);
    } finally {
      this.#spawning = undefined;
    }
  }

  /** Process ids by service (`gateway`, `panel-worker`, `judge-worker`; `#n` after the first of a kind). */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.services) {
      if (s.child.pid) out[s.index === 0 ? s.name : `${s.name}#${s.index}`] = s.child.pid;
    }
    return out;
  }

  override async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => stopChild(s.child, 30_000)));
  }
}

/** Runs bench/load.ts as its own process; it is killed if it outlives its time limit by a minute. */
export async function runLoadProcess(
  config: LoadConfig,
): Promise<{ result: LoadResult; pid: number | undefined }> {
  const child = spawn(process.execPath, [join(benchDir, "load.ts")], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    err = (err + b.toString()).slice(-4000);
  });
  child.stdin?.end(JSON.stringify(config));
  // Warm-up and measured phase each have the time limit, plus the drain: past that the child is stuck.
  const limit = 2 * (config.timeLimitMs + (config.drainMs ?? 30_000)) + 60_000;
  const killer = setTimeout(() => child.kill("SIGKILL"), limit);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(killer);
  if (code !== 0) throw new Error(`load generator exited with ${code}: ${err}`);
  return { result: JSON.parse(out) as LoadResult, pid: child.pid };
}
