/**
 * `pnpm test`: every suite, in two vitest processes side by side, each line of their output tagged
 * with its lane. Vitest runs a process's files one at a time as soon as one of its projects asks
 * for that (the end-to-end suites do: each starts real processes), so the e2e suites are split:
 * - lane `unit+isolated`: the unit tests, then the suites that measure memory, time or recovery
 *   under load (project `e2e-isolated`, listed in vitest.config.ts);
 * - lane `e2e`: every other end-to-end suite.
 * Exits with the first failing lane's code, or 0. With arguments (`pnpm test -- <files or flags>`),
 * runs one `vitest run` with them instead.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const vitest = fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs `vitest run <args>`; resolves to its exit code. Lines are tagged when `tag` is given. */
function run(args: string[], tag?: string): Promise<number> {
  const child = spawn(process.execPath, [vitest, "run", ...args], {
    cwd: root,
    stdio: tag ? ["ignore", "pipe", "pipe"] : "inherit",
  });
  const { stdout, stderr } = child;
  if (tag && stdout && stderr) {
    createInterface({ input: stdout }).on("line", (line) => process.stdout.write(`[${tag}] ${line}\n`));
    createInterface({ input: stderr }).on("line", (line) => process.stderr.write(`[${tag}] ${line}\n`));
  }
  return new Promise((resolve) => {
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const extra = process.argv.slice(2).filter((a) => a !== "--");
const codes =
  extra.length > 0
    ? [await run(extra)]
    : await Promise.all([
        run(["--project", "unit", "--project", "e2e-isolated"], "unit+isolated"),
        run(["--project", "e2e"], "e2e"),
      ]);
const failed = codes.find((code) => code !== 0);
if (failed !== undefined) console.error(`tests failed (exit codes: ${codes.join(", ")})`);
process.exit(failed ?? 0);
