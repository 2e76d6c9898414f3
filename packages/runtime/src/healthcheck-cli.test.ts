import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { healthPorts, isHealthy } from "./healthcheck-cli.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics/fusion-metrics.ts";
import { startMetricsServer } from "./metrics/metrics-server.ts";

const logger = createLogger("healthcheck-test", "silent");

describe("the container health check", () => {
  it("asks the configured ports first, then the defaults, each once", () => {
    expect(healthPorts({ METRICS_PORT: "9465" })).toEqual([9465, 8080, 9464]);
    expect(healthPorts({ PORT: "3000", METRICS_PORT: "0", HEALTHCHECK_PORT: "x" })).toEqual([
      3000, 8080, 9464, 9465,
    ]);
  });

  it("passes when a /healthz answers 200, and fails when none answers", async () => {
    const server = await startMetricsServer({
      port: await freePort(),
      host: "127.0.0.1",
      logger,
      metrics: createMetrics(),
    });
    if (!server) throw new Error("the server did not start");
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await isHealthy([await freePort(), port])).toBe(true);
      expect(await isHealthy([await freePort()])).toBe(false);
      // The CLI runs as its own process (as Docker runs it); this process must stay free to answer it.
      const script = fileURLToPath(new URL("./healthcheck-cli.ts", import.meta.url));
      const cli = await promisify(execFile)(process.execPath, [script], {
        env: { PATH: process.env.PATH ?? "", HEALTHCHECK_PORT: String(port) },
        timeout: 10_000,
      });
      expect(cli.stderr).toBe("");
    } finally {
      server.close();
    }
  });
});
