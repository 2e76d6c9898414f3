import { type ScriptedHandler, type ScriptedServer, startScriptedServer } from "@fusion/testing";
import { afterEach, expect } from "vitest";
import { UpstreamClient } from "./client.ts";
import type { UpstreamClientOptions } from "./client-options.ts";
import { UpstreamError } from "./errors.ts";

/** Options for the client; `baseUrl` defaults to the scripted server's. */
export type ScriptedClientOptions = Partial<UpstreamClientOptions>;

/** A scripted upstream server and the real client pointed at it. */
export interface ScriptedUpstream {
  server: ScriptedServer;
  client: UpstreamClient;
  /** Closes the client, then the server. */
  close(): Promise<void>;
}

/** Starts a scripted server whose `handler` answers each request, and a client on it (`retryBaseMs: 1`). */
export async function startScriptedUpstream(
  handler: ScriptedHandler,
  options: ScriptedClientOptions = {},
): Promise<ScriptedUpstream> {
  const server = await startScriptedServer(handler);
  const client = new UpstreamClient({ baseUrl: server.baseUrl, retryBaseMs: 1, ...options });
  return {
    server,
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** Scripted upstreams for the tests of one file, each closed after the test that started it. */
export interface ScriptedUpstreams {
  /** Starts a scripted upstream; its client has the file's defaults under `options`. */
  start(handler: ScriptedHandler, options?: ScriptedClientOptions): Promise<ScriptedUpstream>;
  /** Closes `closable` after the test as well (e.g. a client of the test's own, for a closed port). */
  closeAfterTest<T extends { close(): Promise<void> }>(closable: T): T;
}

/** Registers an `afterEach` that closes what the test started, the newest first. */
export function useScriptedUpstream(defaults: ScriptedClientOptions = {}): ScriptedUpstreams {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const closable of open.splice(0).reverse()) await closable.close();
  });
  return {
    start: async (handler, options = {}) => {
      const upstream = await startScriptedUpstream(handler, { ...defaults, ...options });
      open.push(upstream);
      return upstream;
    },
    closeAfterTest: (closable) => {
      open.push(closable);
      return closable;
    },
  };
}

/** The UpstreamError a call fails with; fails the test when it succeeds or throws anything else. */
export async function upstreamFailure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error("expected the call to fail with an UpstreamError");
}
