/**
 * An abusive tenant, as test/soak-tenants.test.ts drives it: bodies just under BODY_LIMIT_BYTES and
 * over it, fusions of 8 panel models, streams it never reads, and resume games (start a stream with a
 * resume grace, resume it without reading, drop the POST), each in a loop until stopped.
 */
import { type IncomingMessage, request } from "node:http";

export interface AbuseOptions {
  baseUrl: string;
  apiKey: string;
  /** The gateway's BODY_LIMIT_BYTES: large bodies are 4 KB under it, oversized ones 1 KB over it. */
  bodyLimitBytes: number;
  /** The panel of every abusive fusion (8 models, scripted slow by the caller). */
  panel: string[];
  writer: string;
}

export interface Abuse {
  /** HTTP statuses by status code, over every tactic. */
  statuses: Map<number, number>;
  /** Stops the loops, then closes every socket it left open. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startAbuse(o: AbuseOptions): Abuse {
  const statuses = new Map<number, number>();
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const unread: IncomingMessage[] = [];
  const headers = { "content-type": "application/json", authorization: `Bearer ${o.apiKey}` };
  const body = (stream: boolean, text = "flood", graceMs?: number) => ({
    model: "openrouter/fusion",
    stream,
    messages: [{ role: "user", content: text }],
    plugins: [{ id: "fusion", analysis_models: o.panel, model: o.writer, tools: [] }],
    ...(graceMs ? { fusion: { resume_grace_ms: graceMs } } : {}),
  });
  const sized = (bytes: number) => body(false, "x".repeat(bytes - JSON.stringify(body(false, "")).length));
  const big = JSON.stringify(sized(o.bodyLimitBytes - 4096));
  const tooBig = JSON.stringify(sized(o.bodyLimitBytes + 1024));

  /** One request with node:http on a connection of its own; `read: false` leaves the response paused. */
  const send = (method: string, path: string, payload: string | undefined, read: boolean) =>
    new Promise<IncomingMessage | undefined>((resolve) => {
      const req = request(`${o.baseUrl}${path}`, { method, agent: false, headers }, (res) => {
        count(res.statusCode ?? 0);
        res.on("error", () => {});
        if (read || res.statusCode !== 200) {
          res.resume();
          res.on("close", () => resolve(res));
        } else {
          res.pause();
          unread.push(res);
          resolve(res);
        }
      });
      req.on("error", () => {
        count(0);
        resolve(undefined);
      });
      req.end(payload);
    });

  let stopping = false;
  const lane = async (tactic: () => Promise<void>) => {
    while (!stopping) {
      await tactic();
      await sleep(20);
    }
  };
  const chat = "/api/v1/chat/completions";
  const lanes = [
    lane(async () => {
      await send("POST", chat, big, true);
      await send("POST", chat, tooBig, true);
    }),
    lane(async () => void (await send("POST", chat, JSON.stringify(body(false)), true))),
    lane(async () => void (await send("POST", chat, JSON.stringify(body(true)), false))),
    lane(async () => {
      const post = await send("POST", chat, JSON.stringify(body(true, "resume game", 20_000)), false);
      const fusionId = post?.headers["x-fusion-id"];
      if (post?.statusCode === 200 && typeof fusionId === "string")
        await send("GET", `/api/v1/fusions/${fusionId}/stream`, undefined, false);
      post?.destroy();
    }),
  ];
  return {
    statuses,
    async stop() {
      stopping = true;
      await Promise.all(lanes);
      for (const res of unread) res.destroy();
    },
  };
}
