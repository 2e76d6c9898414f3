import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.ts";

export interface RedisFixture {
  url: string;
  /** How the server was obtained, for the test log. */
  source: "REDIS_URL" | "testcontainers" | "redis-server";
  /** Stops the server when the fixture started one; a shared REDIS_URL is left running. */
  close(): Promise<void>;
  /** Stops the server but keeps its port, so that `restart()` brings it back at the same URL. */
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * A real Redis for a test: `REDIS_URL` when set, else a testcontainers Redis when a Docker engine
 * answers, else a `redis-server` spawned from PATH on a free port with a temporary directory.
 */
export async function startRedis(): Promise<RedisFixture> {
  const shared = process.env.REDIS_URL;
  if (shared) {
    await waitForRedis(shared, 5000);
    const noop = async () => {};
    const unsupported = async () => {
      throw new Error("a shared REDIS_URL cannot be stopped by a test");
    };
    return { url: shared, source: "REDIS_URL", close: noop, stop: unsupported, restart: unsupported };
  }
  if (await dockerAnswers()) {
    try {
      return await startContainer();
    } catch {
      // fall through to a local redis-server
    }
  }
  return startRedisServer();
}

async function dockerAnswers(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync("/var/run/docker.sock")) return false;
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("docker did not answer")), 3000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function startContainer(): Promise<RedisFixture> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer("redis:7-alpine")
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return {
    url,
    source: "testcontainers",
    close: async () => {
      await container.stop();
    },
    stop: async () => {
      await container.stop();
    },
    restart: async () => {
      await container.restart();
    },
  };
}

export async function startRedisServer(): Promise<RedisFixture> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "fusion-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: "ignore" },
    );
    const failed = new Promise<never>((_, reject) => {
      child?.once("error", (err) =>
        reject(new Error(`cannot start redis-server (is it installed and on PATH?): ${err.message}`)),
      );
    });
    await Promise.race([waitForRedis(url, 10_000), failed]);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGKILL");
    });
  };

  await start();
  return {
    url,
    source: "redis-server",
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    stop,
    restart: start,
  };
}

async function waitForRedis(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (err) {
      client.disconnect();
      if (Date.now() > deadline) throw new Error(`Redis at ${url} did not answer: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
