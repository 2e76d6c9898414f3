import { prettyFactory } from "pino-pretty";

/** How the start command shows its services' logs: their JSON lines as written, or readable lines. */
export type LogFormat = "json" | "pretty";

/**
 * `LOG_FORMAT`: "json" or "pretty" (any case); unset or empty, readable lines when the start command's
 * stdout is a terminal and JSON otherwise (a pipe, a file, a log collector). Anything else is refused,
 * naming the variable.
 */
export function chooseLogFormat(value: string | undefined, stdoutIsTerminal: boolean): LogFormat {
  const format = value?.trim().toLowerCase() ?? "";
  if (format === "") return stdoutIsTerminal ? "pretty" : "json";
  if (format === "json" || format === "pretty") return format;
  throw new Error(
    `LOG_FORMAT must be "json" or "pretty" (unset: readable in a terminal, JSON otherwise), got "${value}"`,
  );
}

/** What pino writes that is already shown elsewhere: the supervisor's prefix names the service. */
const HIDDEN_FIELDS = "pid,hostname,service,name";

/**
 * Turns one log line of a service (pino's JSON: `level` as a label, ISO `time`, `service`, `msg`) into
 * readable text with pino-pretty: local time, level, message, then the other fields on the same line
 * (an error's stack on the lines below). A line that is not a pino record (a Node warning, a stack
 * printed by hand) comes back unchanged. The result has no trailing newline; it may span lines.
 */
export function prettyLogLines(options: { colorize: boolean }): (line: string) => string {
  const pretty = prettyFactory({
    colorize: options.colorize,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: HIDDEN_FIELDS,
    singleLine: true,
  });
  return (line) => {
    const record = pinoRecord(line);
    return record
      ? pretty(record)
          .replace(/[ \t]+$/gm, "")
          .replace(/\n+$/, "")
      : line;
  };
}

function pinoRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === "object" && !Array.isArray(value) && "level" in value && "time" in value) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Not JSON: shown as it is.
  }
  return undefined;
}
