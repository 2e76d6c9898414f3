import { describe, expect, it } from "vitest";
import { prettyLogLines } from "./log-format.ts";
import { Supervisor } from "./supervisor.ts";

/** Runs `script` in a child Node under a supervisor and resolves with everything the supervisor wrote. */
function supervise(script: string, formatLine?: (line: string) => string): Promise<string> {
  let out = "";
  const supervisor = new Supervisor({
    color: false,
    write: (text) => (out += text),
    ...(formatLine ? { formatLine } : {}),
  });
  const child = supervisor.start({
    name: "gateway",
    command: process.execPath,
    args: ["-e", script],
    restart: false,
  });
  return new Promise((resolve) => child.once("close", () => resolve(out)));
}

const printRecord = `console.log(JSON.stringify({ level: "info", time: new Date(2026, 0, 5, 9, 7, 3, 45).toISOString(), service: "gateway", msg: "gateway listening", port: 8080 })); console.error("plain line on stderr");`;

describe("Supervisor", () => {
  it("prefixes every line of a service with its name, as it printed it", async () => {
    const out = await supervise(printRecord);
    expect(out).toContain('gateway      | {"level":"info"');
    expect(out).toContain("gateway      | plain line on stderr\n");
  });

  it("shows log records as readable lines when given pino-pretty's formatter, other lines as they are", async () => {
    const out = await supervise(printRecord, prettyLogLines({ colorize: false }));
    expect(out).toContain('gateway      | [09:07:03.045] INFO: gateway listening {"port":8080}\n');
    expect(out).toContain("gateway      | plain line on stderr\n");
  });

  it("keeps the prefix on each line of a record that spans lines", async () => {
    const script = `console.log(JSON.stringify({ level: "error", time: new Date().toISOString(), msg: "failed", err: { type: "Error", message: "boom", stack: "Error: boom\\n    at here" } }));`;
    const out = await supervise(script, prettyLogLines({ colorize: false }));
    const lines = out.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line).toMatch(/^gateway {6}\| /);
    expect(out).toContain("at here");
  });
});
