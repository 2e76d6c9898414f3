import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the scripted server received. */
export interface RecordedRequest {
  /** 1-based arrival number. */
  n: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** Resolves when the response closes; `finished` is false when the client went away first. */
  closed: Promise<{ finished: boolean }>;
}

export type ScriptedHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface ScriptedServer {
  /** e.g. http://127.0.0.1:4321/api/v1 */
  baseUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A tiny node:http server on 127.0.0.1 for tests; `handler` scripts each response. */
export async function startScriptedServer(handler: ScriptedHandler): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => {
      const body = Buffer.concat(parts).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const closed = new Promise<{ finished: boolean }>((resolve) => {
        res.on("close", () => resolve({ finished: res.writableFinished }));
      });
      const recorded: RecordedRequest = {
        n: requests.length + 1,
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body,
        json,
        closed,
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

/** Starts an SSE response. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  res.flushHeaders();
}

/** Writes one `data:` event (objects are JSON-encoded). */
export function sendEvent(res: ServerResponse, data: unknown): void {
  res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}

/** A minimal valid chunk with a text delta. */
export function textChunk(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: "gen-1", model: "test/model", choices: [{ index: 0, delta: { content } }], ...extra };
}

/** A chunk that closes the turn. */
export function finishChunk(reason = "stop"): Record<string, unknown> {
  return { id: "gen-1", model: "test/model", choices: [{ index: 0, delta: {}, finish_reason: reason }] };
}

export function usageChunk(prompt: number, completion: number): Record<string, unknown> {
  return {
    id: "gen-1",
    model: "test/model",
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

export function completionBody(
  content: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: "gen-1",
    model: "test/model",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 0.001 },
    ...extra,
  };
}
