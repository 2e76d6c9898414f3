import { execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Runs the start command inside a fresh network namespace (`unshare -n`, loopback only), where
 * nothing answers on 127.0.0.1:6379, until `until` matches its output or it exits.
 */
function startIsolated(
  env: NodeJS.ProcessEnv,
  until: RegExp,
): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const script = `"${which("ip")}" link set lo up && exec "${process.execPath}" "${join(root, "scripts/start.ts")}"`;
    const child = spawn(which("unshare"), ["-n", "/bin/sh", "-c", script], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let matched = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out; output:\n${output}`));
    }, 40_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      if (!matched && until.test(output)) {
        matched = true;
        child.kill("SIGINT");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

/** Absolute path of a command, looked up on this test's PATH (the isolated runs may have none). */
const which = (command: string) =>
  execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim();

const baseEnv = { HOME: process.env.HOME ?? "/tmp", PORT: "18080" };

describe("the start command without a Redis", () => {
  it("spawns redis-server from PATH on a free port when nothing answers on the default", async () => {
    const { output, code } = await startIsolated(
      // LOG_FORMAT=pretty: readable lines although the output is a pipe.
      { ...baseEnv, PATH: process.env.PATH, LOG_FORMAT: "pretty" },
      // All three services must have said they are up before Ctrl-C, in whatever order they start.
      /^(?=[\s\S]*judge worker ready)(?=[\s\S]*panel worker ready)(?=[\s\S]*gateway listening)/,
    );
    expect(output).toMatch(/started an embedded redis-server at redis:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(
      /^gateway\s+\| \[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway listening \{"host":"127\.0\.0\.1",/m,
    );
    expect(output).not.toMatch(/"msg":/);
    expect(code).toBe(0);
  });

  it("exits with a message that says how to get Redis when there is no redis-server either", async () => {
    const { output, code } = await startIsolated({ ...baseEnv, PATH: "/nonexistent" }, /$^/);
    expect(code).toBe(1);
    expect(output).toMatch(/redis-server is not on PATH/);
    expect(output).toMatch(/apt-get install redis-server/);
    expect(output).toMatch(/REDIS_URL/);
  });
});
