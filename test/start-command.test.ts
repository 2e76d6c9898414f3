import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type RedisFixture, startRedis } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Process ids of every descendant of `pid`. */
function descendants(pid: number): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" });
  const children = new Map<number, number[]>();
  for (const line of out.trim().split("\n")) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (p === undefined || pp === undefined) continue;
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      all.push(c);
      walk(c);
    }
  };
  walk(pid);
  return all;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the start command", () => {
  let redis: RedisFixture;
  let child: ChildProcess;
  let output = "";
  let port: number;

  beforeAll(async () => {
    redis = await startRedis();
    port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      REDIS_URL: redis.url,
    };
    child = spawn(process.execPath, [join(root, "scripts/start.ts")], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (b: Buffer) => {
      output += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      output += b.toString();
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await redis?.close();
  });

  it("with no upstream key, says plainly that the simulator answers", () => {
    expect(output).toMatch(/No UPSTREAM_API_KEY or OPENROUTER_API_KEY is set/);
    expect(output).toMatch(/SIMULATOR at http:\/\/127\.0\.0\.1:\d+/);
    // Logs are prefixed by service.
    expect(output).toMatch(/gateway\s+\| /);
    expect(output).toMatch(/panel-worker\s+\| /);
    expect(output).toMatch(/judge-worker\s+\| /);
  });

  it("prints the API's and the lab's addresses, and serves the lab there", async () => {
    const printed = async () => {
      const deadline = Date.now() + 15_000;
      while (!/Fusion lab: /.test(output) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      return output;
    };
    expect(await printed()).toMatch(new RegExp(`Fusion API: http://127\\.0\\.0\\.1:${port}/api/v1`));
    const lab = /Fusion lab: (http:\/\/\S+)/.exec(output)?.[1];
    expect(lab).toBe(`http://127.0.0.1:${port}/lab`);
    const res = await fetch(lab ?? "");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });

  it("passes the services' logs on as JSON lines when its output is not a terminal", () => {
    const listening = output.split("\n").find((line) => line.includes('"msg":"gateway listening"'));
    expect(listening).toMatch(/^gateway\s+\| \{"level":"info",/);
  });

  it("answers the README's fusion request from the simulator", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "openrouter/fusion",
        messages: [{ role: "user", content: "Compare ridge, lasso and elastic-net regression." }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      model: string;
      choices: Array<{ message: { content: string } }>;
      fusion: { status: string; responses: unknown[]; analysis: unknown };
    };
    expect(body.model).toBe("anthropic/claude-opus-sim-1");
    expect(body.fusion.status).toBe("ok");
    expect(body.fusion.responses).toHaveLength(3);
    expect(body.fusion.analysis).toBeDefined();
    expect(body.choices[0]?.message.content).toContain("Final answer from");
  });

  it("restarts a service that dies", async () => {
    const before = descendants(child.pid ?? 0);
    const gateway = before.find((pid) => {
      const cmd = execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" });
      return cmd.includes("services/gateway/src/main.ts");
    });
    expect(gateway).toBeDefined();
    process.kill(gateway as number, "SIGKILL");
    const deadline = Date.now() + 15_000;
    let back = false;
    while (!back && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      back = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    }
    expect(back).toBe(true);
    expect(output).toMatch(/gateway\s+\| exited \(SIGKILL\); restarting/);
  });

  it("stops every process on Ctrl-C (SIGINT)", async () => {
    const pids = descendants(child.pid ?? 0);
    expect(pids.length).toBeGreaterThanOrEqual(4); // gateway, two workers, simulator
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(pids.filter(alive)).toEqual([]);
  });
});
