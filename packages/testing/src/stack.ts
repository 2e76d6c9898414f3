import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

export type ServiceName = "gateway" | "panel-worker" | "judge-worker";

/** Each service's entry point, relative to the repository root: what the Stack, the start command and the compose file run. */
export const serviceEntries: Record<ServiceName, string> = {
  gateway: "services/gateway/src/main.ts",
  "panel-worker": "services/panel-worker/src/main.ts",
  "judge-worker": "services/judge-worker/src/main.ts",
};

export interface StackOptions {
  redisUrl: string;
  /** `host:port,...` of a Redis Cluster: passed as `REDIS_CLUSTER_NODES` instead of `REDIS_URL`. */
  redisClusterNodes?: string;
  /** Base URL of the simulator (without /v1). */
  simulatorUrl: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment of one service process (on top of `env`), e.g. the queue shards a worker serves. */
  serviceEnv?: (name: ServiceName, index: number) => Record<string, string> | undefined;
  gateways?: number;
  panelWorkers?: number;
  judgeWorkers?: number;
  /** More gateway keys besides `apiKey`, e.g. to show that one key cannot read another's fusion. */
  extraApiKeys?: string[];
}

export interface RunningService {
  name: ServiceName;
  index: number;
  child: ChildProcess;
  /** The gateway's HTTP port, or a worker's metrics port (absent: its metrics server is off). */
  port?: number;
}

/**
 * The real services as separate processes, as the start command runs them, against a test's Redis
 * and simulator. Every output line is kept, so a test can read (or scan) the logs of a whole run.
 */
export class Stack {
  readonly options: StackOptions;
  readonly prefix = `{fusion-${randomBytes(4).toString("hex")}}`;
  readonly services: RunningService[] = [];
  readonly apiKey = `sk-gw-${randomBytes(12).toString("hex")}`;
  readonly upstreamKey = `sk-up-${randomBytes(12).toString("hex")}`;
  #logs: string[] = [];

  constructor(options: StackOptions) {
    this.options = options;
  }

  get baseUrl(): string {
    const gw = this.services.find((s) => s.name === "gateway");
    if (!gw?.port) throw new Error("no gateway running");
    return `http://127.0.0.1:${gw.port}`;
  }

  gatewayUrl(index: number): string {
    const gw = this.services.filter((s) => s.name === "gateway")[index];
    if (!gw?.port) throw new Error(`no gateway ${index}`);
    return `http://127.0.0.1:${gw.port}`;
  }

  /** `/metrics` of a service: the gateway's own port, or a worker's metrics port. */
  metricsUrl(name: ServiceName, index = 0): string {
    const svc = this.services.filter((s) => s.name === name)[index];
    if (!svc?.port) throw new Error(`no ${name} ${index} with a metrics port`);
    return `http://127.0.0.1:${svc.port}/metrics`;
  }

  get logs(): string {
    return this.#logs.join("\n");
  }

  env(): Record<string, string> {
    const sim = new URL(this.options.simulatorUrl);
    return {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...(this.options.redisClusterNodes
        ? { REDIS_CLUSTER_NODES: this.options.redisClusterNodes }
        : { REDIS_URL: this.options.redisUrl }),
      QUEUE_PREFIX: this.prefix,
      UPSTREAM_BASE_URL: `${this.options.simulatorUrl}/v1`,
      // The simulator speaks OpenRouter's dialect; its 127.0.0.1 URL alone would say generic.
      UPSTREAM_DIALECT: "openrouter",
      UPSTREAM_API_KEY: this.upstreamKey,
      GATEWAY_API_KEYS: [this.apiKey, ...(this.options.extraApiKeys ?? [])].join(","),
      SEARXNG_URL: this.options.simulatorUrl,
      WEB_FETCH_ALLOW_HOSTS: sim.host,
      UPSTREAM_RETRY_BASE_MS: "20",
      UPSTREAM_RETRY_MAX_MS: "3000",
      KEEPALIVE_MS: "250",
      // Suites run many fusions of one key at once; the per-key cap has its own suites (rate-limits, fusion-lifetime).
      MAX_CONCURRENT_FUSIONS: "0",
      // Suites run many streams of one key at once; the cap has its own suite (stream-backpressure).
      MAX_OPEN_STREAMS_PER_KEY: "1000",
      WORKER_SHUTDOWN_GRACE_MS: "5000",
      LOG_LEVEL: "debug",
      ...this.options.env,
    };
  }

  async start(): Promise<this> {
    const o = this.options;
    for (let i = 0; i < (o.panelWorkers ?? 1); i++) this.spawn("panel-worker", i, await freePort());
    for (let i = 0; i < (o.judgeWorkers ?? 1); i++) this.spawn("judge-worker", i, await freePort());
    for (let i = 0; i < (o.gateways ?? 1); i++) this.spawn("gateway", i, await freePort());
    await Promise.all(
      this.services
        .filter((s) => s.name === "gateway")
        .map((s) => this.waitReady(`http://127.0.0.1:${s.port}`)),
    );
    return this;
  }

  spawn(name: ServiceName, index: number, port?: number): RunningService {
    const ports =
      name === "gateway"
        ? port
          ? { PORT: String(port), HOST: "127.0.0.1" }
          : {}
        : { METRICS_PORT: String(port ?? 0), METRICS_HOST: "127.0.0.1" };
    const env = { ...this.env(), ...this.options.serviceEnv?.(name, index), ...ports };
    const child = spawn(process.execPath, [join(root, serviceEntries[name])], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tag = `${name}#${index}`;
    const collect = (buf: Buffer) => {
      for (const line of buf.toString().split("\n")) if (line) this.#logs.push(`${tag} ${line}`);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const svc: RunningService = { name, index, child, ...(port ? { port } : {}) };
    this.services.push(svc);
    return svc;
  }

  async waitReady(baseUrl: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${baseUrl}/readyz`);
        if (res.ok) return;
        last = await res.text();
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `stack not ready after ${timeoutMs} ms: ${last}\n--- logs ---\n${this.logs.slice(-4000)}`,
    );
  }

  /** Sends a signal to one service process and waits for it to exit. */
  async kill(svc: RunningService, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const { child } = svc;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.services.map(
        (s) =>
          new Promise<void>((resolve) => {
            const { child } = s;
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill("SIGKILL"), 5000);
            child.once("exit", () => {
              clearTimeout(force);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }
}
