import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createSimulatorApp } from "./app.ts";
import { ChatConcurrency } from "./concurrency.ts";
import { randomControlToken } from "./control-token.ts";
import { SimulatorState } from "./state.ts";

export interface StartSimulatorOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The token the control API (`/_sim/*`) requires; default a random one (see `controlToken`). */
  controlToken?: string;
}

export interface RunningSimulator {
  /** e.g. `http://127.0.0.1:43121`, no trailing slash. */
  url: string;
  /** `Authorization: Bearer` of the control API; web pages fetched from `url` cannot reach it without. */
  controlToken: string;
  state: SimulatorState;
  /** Chat-completion requests in flight, and the most at once. */
  concurrency: ChatConcurrency;
  /** Stops listening and drops open connections (hung streams included). */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** Serves a fresh simulator on a real socket. */
export function startSimulator(opts: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const state = new SimulatorState();
  const controlToken = opts.controlToken ?? randomControlToken();
  const app = createSimulatorApp(state, { controlToken });
  const concurrency = new ChatConcurrency();
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: host }, (info: AddressInfo) => {
      server.off("error", reject);
      const httpServer = server as Server;
      concurrency.attach(httpServer);
      resolve({
        url: `http://${urlHost(host)}:${info.port}`,
        controlToken,
        state,
        concurrency,
        close: () =>
          new Promise<void>((done) => {
            httpServer.close(() => done());
            httpServer.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
  });
}
