import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ServiceName, serviceEntries } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

/**
 * No Docker engine runs in the tests, so the container files are checked for what would break them:
 * the compose structure operators rely on, entry points that are the ones the e2e suites run, and a
 * Dockerfile whose frozen-lockfile install sees every workspace package.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  container_name?: string;
  restart?: string;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
  volumes?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const appServices = Object.keys(serviceEntries) as ServiceName[];
const workers: ServiceName[] = ["panel-worker", "judge-worker"];

function service(name: string): ComposeService {
  const s = services[name];
  if (!s) throw new Error(`no service ${name} in docker-compose.yml`);
  return s;
}

/** Dockerfile instructions, with line continuations joined and comments dropped. */
function dockerfile(): Array<{ op: string; args: string }> {
  const joined = read("Dockerfile")
    .split("\n")
    .filter((l) => !l.trim().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op = "", ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** The script of a `node <script>` exec-form command or healthcheck, if it is one. */
function nodeScript(cmd: string[] | undefined): string | undefined {
  const args = cmd?.[0] === "CMD" ? cmd.slice(1) : cmd;
  return args?.[0] === "node" && args.length === 2 ? args[1] : undefined;
}

describe("docker-compose.yml", () => {
  it("runs Redis, the gateway, the two kinds of worker and SearXNG", () => {
    expect(Object.keys(services).sort()).toEqual([
      "gateway",
      "judge-worker",
      "panel-worker",
      "redis",
      "searxng",
    ]);
  });

  it("runs Redis append-only with noeviction, on a volume, with a health check", () => {
    const redis = service("redis");
    const cmd = (redis.command ?? []).join(" ");
    expect(cmd).toMatch(/^redis-server\b/);
    expect(cmd).toContain("--appendonly yes");
    expect(cmd).toContain("--maxmemory-policy noeviction");
    expect(redis.volumes?.some((v) => v.endsWith(":/data"))).toBe(true);
    expect(redis.healthcheck?.test).toBeDefined();
    expect(redis.restart).toBe("unless-stopped");
  });

  it("starts each service with the entry point the e2e suites and the start command run", () => {
    const start = read("scripts/start.ts");
    for (const name of appServices) {
      const s = service(name);
      expect(s.command, name).toEqual(["node", serviceEntries[name]]);
      expect(existsSync(join(root, serviceEntries[name])), serviceEntries[name]).toBe(true);
      expect(start).toContain(`"${serviceEntries[name]}"`);
    }
  });

  it("gives every service a restart policy, a health check that exists, and Redis first", () => {
    for (const name of appServices) {
      const s = service(name);
      expect(s.restart, name).toBe("unless-stopped");
      expect(s.build ?? s.image, name).toBeDefined();
      const check = nodeScript(s.healthcheck?.test);
      expect(check, `${name} health check`).toBeDefined();
      expect(existsSync(join(root, check ?? "")), `${name}: ${check}`).toBe(true);
      expect(s.depends_on?.redis?.condition, name).toBe("service_healthy");
      expect(s.environment?.REDIS_URL, name).toBe("redis://redis:6379");
    }
  });

  it("lets workers scale: no host ports, no container name, no fixed replica count", () => {
    for (const name of workers) {
      const s = service(name);
      expect(s.ports, name).toBeUndefined();
      expect(s.container_name, name).toBeUndefined();
      expect(s.deploy?.replicas, name).toBeUndefined();
      // Their metrics port is reachable inside the network only, and is the one they listen on.
      const port = s.environment?.METRICS_PORT;
      expect(Number(port), name).toBeGreaterThan(0);
      expect(s.expose, name).toEqual([port]);
    }
    expect(service("judge-worker").environment?.METRICS_PORT).not.toBe(
      service("panel-worker").environment?.METRICS_PORT,
    );
  });

  it("publishes the gateway's port to the host, mapped to the port it listens on", () => {
    const gw = service("gateway");
    expect(gw.container_name).toBeUndefined();
    expect(gw.ports).toHaveLength(1);
    expect(gw.ports?.[0]?.split(":").at(-1)).toBe(gw.environment?.PORT);
  });

  it("listens on every interface inside the containers, the services' loopback defaults overridden", () => {
    const gw = service("gateway");
    expect(gw.environment?.HOST).toBe("0.0.0.0");
    // Open only when the operator says so: the gateway refuses 0.0.0.0 without keys otherwise.
    expect(gw.environment?.ALLOW_UNAUTHENTICATED).toContain("ALLOW_UNAUTHENTICATED:-false");
    for (const w of workers) expect(service(w).environment?.METRICS_HOST, w).toBe("0.0.0.0");
  });
});

/** A compose value read from the environment: `${NAME:-fallback}`. */
const fromEnv = (name: string, fallback = "") => `\${${name}:-${fallback}}`;

describe("docker-compose.yml: web search", () => {
  const searxng = service("searxng");

  it("runs SearXNG from a pinned image, inside the network only, with a health check", () => {
    expect(searxng.image).toMatch(/^searxng\/searxng:\d{4}\.\d+\.\d+-[0-9a-f]+$/);
    expect(searxng.ports).toBeUndefined();
    expect(searxng.expose).toEqual(["8080"]);
    expect(searxng.restart).toBe("unless-stopped");
    expect(searxng.healthcheck?.test?.join(" ")).toContain("http://127.0.0.1:8080/healthz");
  });

  it("mounts the settings file of the repository read-only, with the JSON API enabled and no limiter", () => {
    const mounts = (searxng.volumes ?? []).map((v) => v.split(":"));
    const settings = mounts.find(([, target]) => target === "/etc/searxng/settings.yml");
    expect(settings?.[2]).toBe("ro");
    const source = (settings?.[0] ?? "").replace(/^\.\//, "");
    expect(existsSync(join(root, source)), source).toBe(true);
    const parsed = parse(read(source)) as {
      use_default_settings?: boolean;
      search?: { formats?: string[] };
      server?: { limiter?: boolean; secret_key?: string };
    };
    expect(parsed.use_default_settings).toBe(true);
    expect(parsed.search?.formats).toContain("json");
    expect(parsed.server?.limiter).toBe(false);
  });

  it("takes its secret from SEARXNG_SECRET, else a random one made at start, never the file's placeholder", () => {
    expect(searxng.environment?.SEARXNG_SECRET).toBe(fromEnv("SEARXNG_SECRET"));
    const start = searxng.entrypoint?.join(" ") ?? "";
    expect(start).toContain('export SEARXNG_SECRET="$${SEARXNG_SECRET:-$$(head -c 32 /dev/urandom');
    expect(start).toMatch(/exec \/usr\/local\/searxng\/entrypoint\.sh$/);
  });

  it("wires the workers to it by default and passes the other backends' settings through", () => {
    for (const name of workers) {
      const env = service(name).environment ?? {};
      expect(env.SEARXNG_URL, name).toBe(fromEnv("SEARXNG_URL", "http://searxng:8080"));
      for (const key of ["WEB_SEARCH_PROVIDER", "WEB_SEARCH_API_KEY", "WEB_SEARCH_URL"]) {
        expect(env[key], `${name} ${key}`).toBe(fromEnv(key));
      }
      // Workers start without it: a deployment with another backend runs `--scale searxng=0`.
      expect(service(name).depends_on?.searxng, name).toBeUndefined();
    }
    // The key of a search backend is the workers' alone.
    expect(service("gateway").environment?.WEB_SEARCH_API_KEY).toBeUndefined();
  });
});

describe("Dockerfile", () => {
  const steps = dockerfile();
  const froms = steps.filter((s) => s.op === "FROM");
  const runtime = steps.slice(steps.lastIndexOf(froms.at(-1) ?? { op: "", args: "" }));

  it("is multi-stage on a slim image and runs as a non-root user", () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms.every((f) => /slim|alpine|distroless/.test(f.args))).toBe(true);
    const users = runtime.filter((s) => s.op === "USER").map((s) => s.args);
    expect(users.at(-1)).toBeDefined();
    expect(["root", "0"]).not.toContain(users.at(-1));
  });

  it("copies every workspace package.json the lockfile names, so a frozen install sees the whole workspace", () => {
    const lock = parse(read("pnpm-lock.yaml")) as { importers: Record<string, unknown> };
    const importers = Object.keys(lock.importers);
    const copied = new Set(
      steps
        .filter((s) => s.op === "COPY" && !s.args.startsWith("--from"))
        .flatMap((s) => s.args.split(/\s+/).slice(0, -1))
        .filter((src) => src.endsWith("package.json")),
    );
    for (const importer of importers) {
      const manifest = importer === "." ? "package.json" : `${importer}/package.json`;
      expect(copied.has(manifest), `Dockerfile does not COPY ${manifest}`).toBe(true);
    }
    // A COPY of a manifest that is gone would fail the build.
    for (const manifest of copied) expect(existsSync(join(root, manifest)), manifest).toBe(true);
    // And the lockfile is current: every workspace package is one of its importers.
    const globs = (parse(read("pnpm-workspace.yaml")) as { packages: string[] }).packages;
    const workspace = globs.flatMap((g) =>
      g.endsWith("/*")
        ? readdirSync(join(root, g.slice(0, -2)))
            .map((d) => `${g.slice(0, -2)}/${d}`)
            .filter((d) => existsSync(join(root, d, "package.json")))
        : [g],
    );
    expect(importers.filter((i) => i !== ".").sort()).toEqual(workspace.sort());
    const install = steps.find((s) => s.op === "RUN" && s.args.includes("pnpm install"));
    expect(install?.args).toContain("--frozen-lockfile");
  });

  it("installs the production dependencies of every service and copies their sources", () => {
    const install = steps.find((s) => s.op === "RUN" && s.args.includes("pnpm install"))?.args ?? "";
    expect(install).toContain("--prod");
    for (const name of appServices) {
      const pkg = JSON.parse(read(`services/${name}/package.json`)) as { name: string };
      expect(install).toContain(`--filter "${pkg.name}..."`);
    }
    const sources = runtime.filter((s) => s.op === "COPY" && !s.args.startsWith("--from")).map((s) => s.args);
    expect(sources).toEqual(expect.arrayContaining(["packages ./packages", "services ./services"]));
  });

  it("builds the lab page in a stage of its own and puts only its dist in the image", () => {
    const build = steps.findIndex(
      (s) => s.op === "RUN" && s.args.includes("pnpm --filter @fusion/lab build"),
    );
    expect(build, "no RUN builds @fusion/lab").toBeGreaterThan(-1);
    const stageName = (from: { args: string } | undefined) => from?.args.split(/\s+/).at(-1);
    const labStage = stageName(steps.slice(0, build).findLast((s) => s.op === "FROM"));
    expect(labStage).not.toBe(stageName(froms.at(-1)));
    expect(runtime).toContainEqual({
      op: "COPY",
      args: `--from=${labStage} /app/packages/lab/dist ./packages/lab/dist`,
    });
    // The gateway serves it unless told not to.
    expect(service("gateway").environment?.LAB_ENABLED).toContain("LAB_ENABLED:-true");
  });

  it("starts the gateway by default and checks health with a script that exists", () => {
    const cmd = runtime.find((s) => s.op === "CMD");
    expect(JSON.parse(cmd?.args ?? "[]")).toEqual(["node", serviceEntries.gateway]);
    const health = runtime.find((s) => s.op === "HEALTHCHECK")?.args ?? "";
    const exec = JSON.parse(health.slice(health.indexOf("CMD") + 3).trim()) as string[];
    const script = nodeScript(exec);
    expect(script).toBeDefined();
    expect(existsSync(join(root, script ?? ""))).toBe(true);
    expect(script?.startsWith("packages/") || script?.startsWith("services/")).toBe(true);
  });
});
