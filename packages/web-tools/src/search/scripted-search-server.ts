import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** A request the server received, whole. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One scripted answer: a status, headers, a body (a string or bytes as they are, anything else as JSON), a delay, or a cut connection. */
export interface ScriptedReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  delayMs?: number;
  /** Destroys the connection instead of answering. */
  reset?: boolean;
}

export interface ScriptedSearchServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: RecordedRequest[];
  /** Queues the answers of the next requests, in order; an unscripted request gets a 599. */
  reply(...replies: ScriptedReply[]): void;
  /** Forgets the requests and the queued answers. */
  reset(): void;
  close(): Promise<void>;
}

/** A fixture of `fixtures/`, parsed. */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
}

/** A local HTTP server standing in for a search API: it records every request and answers from a script. */
export async function startScriptedSearchServer(): Promise<ScriptedSearchServer> {
  const queue: ScriptedReply[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://test");
      state.requests.push({
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const reply = queue.shift() ?? { status: 599, body: "unscripted request" };
      const answer = () => {
        if (reply.reset) {
          req.socket.destroy();
          return;
        }
        const body =
          typeof reply.body === "string" || Buffer.isBuffer(reply.body)
            ? reply.body
            : JSON.stringify(reply.body ?? {});
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
        res.end(body);
      };
      if (reply.delayMs === undefined) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, reply.delayMs);
      timers.add(timer);
    });
  });
  const state: ScriptedSearchServer = {
    origin: "",
    requests: [],
    reply: (...replies) => {
      queue.push(...replies);
    },
    reset: () => {
      state.requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
