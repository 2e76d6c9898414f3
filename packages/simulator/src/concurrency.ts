import type { IncomingMessage, Server, ServerResponse } from "node:http";

/**
 * Chat-completion requests in flight at the simulator's socket: from the request's arrival until its
 * response is sent or its connection closes (a streamed body counts until its last byte). `max` is the
 * most seen at once since the last `reset`, e.g. to prove a concurrency limit held.
 */
export class ChatConcurrency {
  current = 0;
  max = 0;

  /** Counts the chat-completion requests the server receives. */
  attach(server: Server): void {
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== "POST" || !req.url?.split("?")[0]?.endsWith("/chat/completions")) return;
      this.current++;
      this.max = Math.max(this.max, this.current);
      res.once("close", () => {
        this.current--;
      });
    });
  }

  reset(): void {
    this.max = this.current;
  }
}
