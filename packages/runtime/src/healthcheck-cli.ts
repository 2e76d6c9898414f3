/**
 * The container health check of every service: `node packages/runtime/src/healthcheck-cli.ts`.
 * One image runs the gateway (`/healthz` on PORT, default 8080) or a worker (`/healthz` on its
 * METRICS_PORT, default 9464 for panel workers and 9465 for judge workers). A container holds one
 * service in its own network namespace, so the check asks each of those ports and passes when one
 * answers 200. Exit code 0: healthy; 1: not.
 */

/** The ports a service in this container may answer `/healthz` on, most specific first. */
export function healthPorts(env: NodeJS.ProcessEnv = process.env): number[] {
  const candidates = [env.HEALTHCHECK_PORT, env.METRICS_PORT, env.PORT, "8080", "9464", "9465"];
  const ports = candidates.map((p) => Number(p)).filter((p) => Number.isInteger(p) && p > 0 && p < 65_536);
  return [...new Set(ports)];
}

export async function isHealthy(ports: number[], timeoutMs = 2000): Promise<boolean> {
  const answers = await Promise.all(
    ports.map((port) =>
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(timeoutMs) }).then(
        (res) => res.ok,
        () => false,
      ),
    ),
  );
  return answers.some(Boolean);
}

if (import.meta.main) {
  process.exit((await isHealthy(healthPorts())) ? 0 : 1);
}
