import { describe, expect, it } from "vitest";
import { chooseLogFormat, prettyLogLines } from "./log-format.ts";

describe("chooseLogFormat", () => {
  it("unset or empty: readable in a terminal, JSON into a pipe or a file", () => {
    expect(chooseLogFormat(undefined, true)).toBe("pretty");
    expect(chooseLogFormat(undefined, false)).toBe("json");
    expect(chooseLogFormat("", true)).toBe("pretty");
    expect(chooseLogFormat("  ", false)).toBe("json");
  });

  it("LOG_FORMAT decides, wherever the output goes", () => {
    expect(chooseLogFormat("json", true)).toBe("json");
    expect(chooseLogFormat("pretty", false)).toBe("pretty");
    expect(chooseLogFormat(" JSON ", true)).toBe("json");
    expect(chooseLogFormat("Pretty", false)).toBe("pretty");
  });

  it("refuses any other value, naming the variable and what it takes", () => {
    for (const bad of ["text", "true", "1", "pretty-print"]) {
      expect(() => chooseLogFormat(bad, true), bad).toThrow(/LOG_FORMAT must be "json" or "pretty".*got/);
    }
  });
});

/** A log line as the services' pino logger writes it, at a local time the expected text can name. */
function record(fields: Record<string, unknown>): string {
  const time = new Date(2026, 0, 5, 9, 7, 3, 45).toISOString();
  return JSON.stringify({ level: "info", time, service: "gateway", name: "gateway", pid: 42, ...fields });
}

describe("prettyLogLines", () => {
  const pretty = prettyLogLines({ colorize: false });

  it("shows local time, level and message, then the other fields on the same line", () => {
    const line = record({ host: "127.0.0.1", port: 8080, msg: "gateway listening" });
    expect(pretty(line)).toBe('[09:07:03.045] INFO: gateway listening {"host":"127.0.0.1","port":8080}');
  });

  it("leaves out what the prefix already says (service, name) and what nobody reads (pid, hostname)", () => {
    const out = pretty(record({ hostname: "box", level: "warn", msg: "queue error" }));
    expect(out).toBe("[09:07:03.045] WARN: queue error");
  });

  it("shows an error's stack on the lines below its record", () => {
    const err = { type: "Error", message: "boom", stack: "Error: boom\n    at main (gateway.ts:1:1)" };
    const out = pretty(record({ level: "error", err, msg: "unhandled error" }));
    const lines = out.split("\n");
    expect(lines[0]).toBe("[09:07:03.045] ERROR: unhandled error");
    expect(out).toContain("at main (gateway.ts:1:1)");
    expect(out.endsWith("\n")).toBe(false);
  });

  it("passes through unchanged what is not a log record", () => {
    for (const line of [
      "(node:123) ExperimentalWarning: something",
      '{"not":"a log record"}',
      "{broken json",
      "[1,2,3]",
      "",
    ]) {
      expect(pretty(line), line).toBe(line);
    }
  });

  it("colours the level only when asked", () => {
    const line = record({ msg: "ready" });
    const ansi = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");
    expect(pretty(line)).not.toMatch(ansi);
    const colored = prettyLogLines({ colorize: true })(line);
    expect(colored).toMatch(ansi);
    expect(colored.replace(ansi, "")).toBe(pretty(line));
  });
});
