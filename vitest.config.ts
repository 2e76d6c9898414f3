import { configDefaults, defineConfig } from "vitest/config";

/**
 * The end-to-end suites that measure memory, time or recovery under load (soaks, bounded Redis,
 * failover, chaos, backpressure, deadlines, rate limits, the clusters). `pnpm test`
 * (scripts/run-tests.ts) runs them after the unit tests, in a process beside the one that runs every
 * other end-to-end suite: one stack of each kind at a time.
 */
const e2eIsolated = [
  "test/bounded-redis.test.ts",
  "test/soak-tenants.test.ts",
  "test/soak.test.ts",
  "test/redis-failover.test.ts",
  "test/chaos-workers.test.ts",
  "test/chaos-redis.test.ts",
  "test/queue-shards-cluster.test.ts",
  "test/redis-cluster.test.ts",
  "test/stream-backpressure.test.ts",
  "test/conversation-storage.test.ts",
  "test/deadlines.test.ts",
  "test/rate-limits.test.ts",
];

const e2e = {
  environment: "node",
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 120_000,
} as const;

export default defineConfig({
  test: {
    // An e2e project runs one file at a time (its suites start real processes, each with a Redis of
    // its own); vitest then runs every file of that process one at a time.
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
          environment: "node",
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...e2eIsolated],
          ...e2e,
        },
      },
      { test: { name: "e2e-isolated", include: e2eIsolated, ...e2e } },
    ],
  },
});
