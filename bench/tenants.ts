/**
 * `node bench/tenants.ts`: the latency of a well-behaved key's fusions running alone, then beside an
 * abusive key (bench/lib/abuse.ts), in one run against one stack; prints p50/p99 of both and the ratio.
 * Starts its own Redis, simulator and services (as bench/run.ts does) and stops them at the end.
 *
 *   node bench/tenants.ts [--fusions 150] [--concurrency 2] [--latency-ms 100]
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { SimulatorControl } from "@fusion/simulator";
import { startRedis } from "@fusion/testing";
import { startAbuse } from "./lib/abuse.ts";
import { BenchStack, rootDir, startServerProcess } from "./lib/processes.ts";
import { type Summary, summarize } from "./lib/stats.ts";
import { fusionBody, scripts } from "./lib/workload.ts";

const { values: flags } = parseArgs({
  options: {
    fusions: { type: "string", default: "150" },
    concurrency: { type: "string", default: "2" },
    "latency-ms": { type: "string", default: "100" },
    "abusive-latency-ms": { type: "string", default: "300" },
    "body-limit-bytes": { type: "string", default: String(256 * 1024) },
    "max-concurrent-fusions": { type: "string", default: "4" },
    "max-open-streams": { type: "string", default: "4" },
  },
});
const fusions = Number(flags.fusions);
const concurrency = Number(flags.concurrency);
const bodyLimitBytes = Number(flags["body-limit-bytes"]);
const log = (line: string) =>
  process.stderr.write(`[tenants ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

const abusiveKey = `sk-abusive-${randomBytes(12).toString("hex")}`;
const redisFixture = await startRedis();
const controlToken = randomBytes(24).toString("hex");
const sim = await startServerProcess("simulator", join(rootDir, "packages/simulator/src/main.ts"), {
  PORT: "0",
  HOST: "127.0.0.1",
  SIM_CONTROL_TOKEN: controlToken,
});
const control = new SimulatorControl(sim.url, controlToken);
const stack = new BenchStack({
  redisUrl: redisFixture.url,
  simulatorUrl: sim.url,
  extraApiKeys: [abusiveKey],
  env: {
    LOG_LEVEL: "info",
    KEEPALIVE_MS: "10000",
    BODY_LIMIT_BYTES: String(bodyLimitBytes),
    MAX_CONCURRENT_FUSIONS: flags["max-concurrent-fusions"] ?? "4",
    MAX_OPEN_STREAMS_PER_KEY: flags["max-open-streams"] ?? "4",
  },
});

async function stopAll(): Promise<void> {
  await stack.stop().catch(() => {});
  await sim.stop().catch(() => {});
  await redisFixture.close().catch(() => {});
}

/** One well-behaved fusion, read to its end; its latency in ms, or throws unless it is a full answer. */
async function fusion(i: number): Promise<number> {
  const stream = i % 2 === 0;
  const started = performance.now();
  const res = await fetch(`${stack.baseUrl}/api/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.apiKey}` },
    body: JSON.stringify(fusionBody(stream)).replaceAll("{{i}}", String(i)),
  });
  const text = await res.text();
  const elapsed = performance.now() - started;
  const complete = stream ? text.trimEnd().endsWith("data: [DONE]") : text.includes('"finish_reason":"stop"');
  if (res.status !== 200 || !complete) throw new Error(`fusion ${i}: ${res.status} ${text.slice(0, 300)}`);
  return elapsed;
}

async function phase(label: string): Promise<Summary> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < fusions) samples.push(await fusion(next++));
    }),
  );
  const s = summarize(samples);
  log(
    `${label}: ${s.count} fusions, p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`,
  );
  return s;
}

try {
  await stack.start();
  for (const [model, script] of Object.entries(scripts(Number(flags["latency-ms"]), 0)))
    await control.script(model, script);
  const panel = Array.from({ length: 8 }, (_, i) => `bench/abusive-${i}`);
  for (const model of panel) await control.script(model, { latencyMs: Number(flags["abusive-latency-ms"]) });
  log(`stack up; warming up with ${2 * concurrency} fusions`);
  for (let i = 0; i < 2 * concurrency; i++) await fusion(i);

  const alone = await phase("alone");
  const abuse = startAbuse({
    baseUrl: stack.baseUrl,
    apiKey: abusiveKey,
    bodyLimitBytes,
    panel,
    writer: "bench/abusive-writer",
  });
  await new Promise((r) => setTimeout(r, 2000));
  const underAbuse = await phase("under abuse");
  await abuse.stop();

  const statuses = Object.fromEntries([...abuse.statuses].sort(([a], [b]) => a - b));
  const ratio = { p50: underAbuse.p50 / alone.p50, p99: underAbuse.p99 / alone.p99 };
  const report = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    settings: { ...flags },
    alone,
    underAbuse,
    ratio,
    abusiveStatuses: statuses,
    p99WithinTwiceAlone: ratio.p99 <= 2,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  log(
    `p50 ×${ratio.p50.toFixed(2)}, p99 ×${ratio.p99.toFixed(2)}; abusive key's statuses ${JSON.stringify(statuses)}`,
  );
} finally {
  await stopAll();
}
