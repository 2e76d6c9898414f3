import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Restart the process when it dies on its own (default true). */
  restart?: boolean;
}

const COLORS = [36, 35, 33, 32, 34, 31];

/**
 * Runs services as child processes with their output prefixed by name, restarts one that dies (with
 * backoff, like compose's `restart: unless-stopped`), and stops them all on request.
 */
export class Supervisor {
  readonly #running = new Map<string, ChildProcess>();
  readonly #color = process.stdout.isTTY && !process.env.NO_COLOR;
  #stopping = false;
  #width = 12;

  start(spec: ServiceSpec, attempt = 0): ChildProcess {
    this.#width = Math.max(this.#width, spec.name.length);
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#running.set(spec.name, child);
    const startedAt = Date.now();
    const prefix = this.#prefix(spec.name);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => process.stdout.write(`${prefix}${line}\n`));
    }
    child.on("error", (err) => process.stdout.write(`${prefix}failed to start: ${err.message}\n`));
    child.on("exit", (code, signal) => {
      if (this.#running.get(spec.name) === child) this.#running.delete(spec.name);
      if (this.#stopping || spec.restart === false) return;
      // A process that ran a while is restarted at once; one that keeps dying backs off up to 30 s.
      const next = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
      const delay = Math.min(30_000, next === 0 ? 200 : 500 * 2 ** Math.min(next, 6));
      process.stdout.write(`${prefix}exited (${signal ?? `code ${code}`}); restarting in ${delay} ms\n`);
      setTimeout(() => {
        if (!this.#stopping) this.start(spec, next);
      }, delay).unref();
    });
    return child;
  }

  log(name: string, line: string): void {
    process.stdout.write(`${this.#prefix(name)}${line}\n`);
  }

  /** SIGTERM to every process, SIGKILL to those still running after the grace period. */
  async stopAll(graceMs: number): Promise<void> {
    this.#stopping = true;
    const children = [...this.#running.values()];
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
            child.once("exit", () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }

  #prefix(name: string): string {
    const label = `${name.padEnd(this.#width)} |`;
    if (!this.#color) return `${label} `;
    let h = 0;
    for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return `\x1b[${COLORS[h % COLORS.length]}m${label}\x1b[0m `;
  }
}
