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

export interface SupervisorOptions {
  /** Rewrites each line a service prints (e.g. its JSON log record as readable text); default: as is. */
  formatLine?: (line: string) => string;
  /** Where the prefixed lines go (default: this process's stdout). */
  write?: (text: string) => void;
  /** Colour the service names (default: stdout is a terminal and NO_COLOR is unset). */
  color?: boolean;
}

/**
 * Runs services as child processes with their output prefixed by name, restarts one that dies (with
 * backoff, like compose's `restart: unless-stopped`), and stops them all on request.
 */
export class Supervisor {
  readonly #running = new Map<string, ChildProcess>();
  readonly #color: boolean;
  readonly #formatLine: (line: string) => string;
  readonly #write: (text: string) => void;
  #stopping = false;
  #width = 12;

  constructor(options: SupervisorOptions = {}) {
    this.#color = options.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
    this.#formatLine = options.formatLine ?? ((line) => line);
    this.#write = options.write ?? ((text) => void process.stdout.write(text));
  }

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
      createInterface({ input: stream }).on("line", (line) => this.#print(prefix, this.#formatLine(line)));
    }
    child.on("error", (err) => this.#print(prefix, `failed to start: ${err.message}`));
    child.on("exit", (code, signal) => {
      if (this.#running.get(spec.name) === child) this.#running.delete(spec.name);
      if (this.#stopping || spec.restart === false) return;
      // A process that ran a while is restarted at once; one that keeps dying backs off up to 30 s.
      const next = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
      const delay = Math.min(30_000, next === 0 ? 200 : 500 * 2 ** Math.min(next, 6));
      this.#print(prefix, `exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (!this.#stopping) this.start(spec, next);
      }, delay).unref();
    });
    return child;
  }

  log(name: string, line: string): void {
    this.#print(this.#prefix(name), line);
  }

  /** Every line of `text` behind the prefix, so that a record spread over lines stays tagged. */
  #print(prefix: string, text: string): void {
    this.#write(
      `${text
        .split("\n")
        .map((line) => `${prefix}${line}`)
        .join("\n")}\n`,
    );
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
