import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { announceReady } from "./announce-ready.ts";

/** A logger whose lines are collected, at every level. */
function collectingLogger() {
  const lines: Array<{ level: number; msg: string; workers?: number }> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("announceReady", () => {
  it("logs once when every worker of the queue is ready, then reconnections at debug", () => {
    const { logger, lines } = collectingLogger();
    const workers = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
    announceReady(logger, workers, { shards: [0] }, "panel worker ready");
    workers[0]?.emit("ready");
    workers[0]?.emit("ready");
    workers[1]?.emit("ready");
    expect(lines).toEqual([]);
    workers[2]?.emit("ready");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: "panel worker ready", workers: 3 });
    workers[1]?.emit("ready");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 20, msg: "panel worker ready again" });
  });
});
