import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import type { GatewayEnv } from "../env.ts";

type HttpLimits = Pick<GatewayEnv, "HTTP_HEADERS_TIMEOUT_MS" | "HTTP_REQUEST_TIMEOUT_MS" | "MAX_CONNECTIONS">;

/**
 * The gateway's Node HTTP server around an app's `fetch`, bounded against slow and numerous clients:
 * a request whose headers take longer than HTTP_HEADERS_TIMEOUT_MS, or whose headers and body take
 * longer than HTTP_REQUEST_TIMEOUT_MS, is answered 408 and its connection closed (checked every
 * second at most, not Node's default 30 s); beyond MAX_CONNECTIONS open connections, new ones are
 * closed as they arrive. A response may take as long as it needs (SSE streams): the timeouts bound
 * only what the client sends.
 */
export function createHttpServer(
  fetch: (request: Request) => Response | Promise<Response>,
  limits: HttpLimits,
): Server {
  const requestTimeout = limits.HTTP_REQUEST_TIMEOUT_MS;
  // Node refuses a headers timeout above the request timeout.
  const headersTimeout = Math.min(limits.HTTP_HEADERS_TIMEOUT_MS, requestTimeout);
  const server = createAdaptorServer({
    fetch,
    serverOptions: {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  }) as Server;
  server.maxConnections = limits.MAX_CONNECTIONS;
  return server;
}
