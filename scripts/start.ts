/**
 * The start command: the gateway, one panel worker and one judge worker as separate processes, with
 * Redis and an upstream found or provided. Ctrl-C stops everything.
 *
 *   REDIS_URL unset and nothing on 127.0.0.1:6379 → spawns redis-server on a free port (temporary dir).
 *   REDIS_CLUSTER_NODES set                       → every service uses that Redis Cluster; nothing spawned.
 *   No UPSTREAM_API_KEY / OPENROUTER_API_KEY      → runs the bundled simulator as the upstream
 *                                                   (unless FUSION_CONFIG names the providers).
 *
 * Once the gateway answers it prints the API's and the lab's addresses. The services' logs are readable
 * lines when stdout is a terminal, their JSON otherwise; LOG_FORMAT=json or pretty chooses.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chooseLogFormat, type LogFormat, prettyLogLines } from "./lib/log-format.ts";
import { Supervisor } from "./lib/supervisor.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const node = process.execPath;
const terminal = process.stdout.isTTY === true;
const color = terminal && !process.env.NO_COLOR;
let logFormat: LogFormat;
try {
  logFormat = chooseLogFormat(process.env.LOG_FORMAT, terminal);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
// The services always write JSON; in a terminal (or with LOG_FORMAT=pretty) it is shown as readable lines.
const supervisor = new Supervisor({
  color,
  ...(logFormat === "pretty" ? { formatLine: prettyLogLines({ colorize: color }) } : {}),
});
const extras: Array<() => Promise<void>> = [];
const env: NodeJS.ProcessEnv = {};

function say(line: string) {
  supervisor.log("start", line);
}

function ping(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (buf) =>
      done(buf.toString().startsWith("+PONG") || buf.toString().startsWith("-NOAUTH")),
    );
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function resolveRedis(): Promise<void> {
  const clusterNodes = (process.env.REDIS_CLUSTER_NODES ?? "").split(",").filter((n) => n.trim());
  if (clusterNodes.length > 0) {
    // The services connect to the cluster themselves (REDIS_CLUSTER_NODES reaches them unchanged).
    say(`using the Redis Cluster of REDIS_CLUSTER_NODES (${clusterNodes.length} seed nodes)`);
    return;
  }
  if (process.env.REDIS_URL) return;
  if (await ping("127.0.0.1", 6379)) {
    say("using Redis at redis://127.0.0.1:6379");
    return;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "fusion-redis-"));
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--maxmemory-policy",
      "noeviction",
    ],
    { stdio: "ignore" },
  );
  const missing = await new Promise<boolean>((resolve) => {
    child.once("error", () => resolve(true));
    setTimeout(() => resolve(false), 300);
  });
  if (missing) {
    say("no Redis answers on 127.0.0.1:6379 and redis-server is not on PATH.");
    say("Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),");
    say("or point REDIS_URL at one (e.g. REDIS_URL=redis://host:6379), then run this again.");
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }
  for (let i = 0; i < 100 && !(await ping("127.0.0.1", port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  env.REDIS_URL = `redis://127.0.0.1:${port}`;
  say(`started an embedded redis-server at ${env.REDIS_URL} (data in ${dir}, removed on exit)`);
  extras.push(async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  });
}

async function resolveUpstream(): Promise<void> {
  if (process.env.FUSION_CONFIG?.trim()) {
    say(`upstreams: the providers of ${process.env.FUSION_CONFIG.trim()} (FUSION_CONFIG)`);
    return;
  }
  if (process.env.UPSTREAM_API_KEY?.trim() || process.env.OPENROUTER_API_KEY?.trim()) {
    say(`upstream: ${process.env.UPSTREAM_BASE_URL ?? "https://openrouter.ai/api/v1"}`);
    return;
  }
  const child = spawn(node, [join(root, "packages/simulator/src/main.ts")], {
    env: { ...process.env, PORT: process.env.SIMULATOR_PORT ?? "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`simulator exited with code ${code}`)));
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        reject(new Error(`unexpected simulator output: ${line}`));
      }
    });
  });
  env.UPSTREAM_BASE_URL = `${url}/v1`;
  env.UPSTREAM_DIALECT = "openrouter";
  env.UPSTREAM_API_KEY = "simulator";
  env.SEARXNG_URL = process.env.SEARXNG_URL ?? url;
  const host = new URL(url).host;
  env.WEB_FETCH_ALLOW_HOSTS = [process.env.WEB_FETCH_ALLOW_HOSTS, host].filter(Boolean).join(",");
  say("────────────────────────────────────────────────────────────────────────");
  say("No UPSTREAM_API_KEY or OPENROUTER_API_KEY is set: answers come from the built-in");
  say(`SIMULATOR at ${url}, not from real models. Set OPENROUTER_API_KEY to use OpenRouter.`);
  say("────────────────────────────────────────────────────────────────────────");
  extras.push(() => stopChild(child));
}

/** The addresses to open, once the gateway answers (so they come after its start-up lines), or after a minute. */
async function announce(base: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const up = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  say(`Fusion API: ${base}/api/v1 — try: curl ${base}/readyz`);
  const labOff = ["false", "0", "no", "off"].includes(process.env.LAB_ENABLED?.trim() ?? "");
  if (!labOff) say(`Fusion lab: ${base}/lab`);
}

async function main() {
  await resolveRedis();
  await resolveUpstream();
  const port = process.env.PORT ?? "8080";
  const services = [
    { name: "gateway", path: "services/gateway/src/main.ts" },
    { name: "panel-worker", path: "services/panel-worker/src/main.ts" },
    { name: "judge-worker", path: "services/judge-worker/src/main.ts" },
  ];
  for (const s of services) {
    supervisor.start({
      name: s.name,
      command: node,
      args: [join(root, s.path)],
      env: { ...env, PORT: port },
    });
  }
  void announce(`http://127.0.0.1:${port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping all services`);
    await supervisor.stopAll(Number(process.env.SHUTDOWN_GRACE_MS ?? 10_000));
    await Promise.all(extras.map((fn) => fn()));
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err) => {
  say(`failed to start: ${(err as Error).message}`);
  void Promise.all(extras.map((fn) => fn())).finally(() => process.exit(1));
});
