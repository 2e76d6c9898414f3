/**
 * The floor: the least a fusion can cost on this machine. One process, undici, `JSON.parse`, no
 * validation, no Redis, no retries, no logging, none of the project's packages. It makes the same
 * upstream calls as a fusion of the bench's shape (each panelist: a call that asks for `web_search`,
 * the search against the simulator's SearXNG, a call that answers; then the judge with the same
 * `response_format`; then the writer with the panel's result as an `openrouter_fusion` tool result,
 * streamed when the client streams), with the same prompts and tool definitions (captured from the
 * pipeline into lib/floor-fixtures.json), and serves the API subset the load generator needs: the
 * completion with `fusion.analysis`, or the writer's SSE chunks, an analysis chunk and `[DONE]`.
 *
 *   SIM_URL=http://127.0.0.1:PORT node bench/floor.ts   → prints {"service":"floor","url":...}
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";

const simUrl = process.env.SIM_URL;
if (!simUrl) throw new Error("SIM_URL is required");
const keepAliveMs = Number(process.env.KEEPALIVE_MS ?? 10_000);
const fixtures = JSON.parse(readFileSync(new URL("./lib/floor-fixtures.json", import.meta.url), "utf8")) as {
  panelTools: unknown[];
  panelSystem: string;
  judgeSystem: string;
  judgeFormat: unknown;
  writerTools: unknown[];
};

const agent = new Agent({
  connections: Number(process.env.FLOOR_CONNECTIONS ?? 2048),
  keepAliveTimeout: 60_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});
const completionsUrl = `${simUrl}/v1/chat/completions`;
const upstreamHeaders = { "content-type": "application/json", authorization: "Bearer sk-bench-floor" };
const innerHeaders = { ...upstreamHeaders, "x-openrouter-fusion-depth": "1" };

// biome-ignore lint/suspicious/noExplicitAny: the floor does no validation by design
type Json = any;

async function complete(body: Json, headers: Record<string, string>, signal: AbortSignal): Promise<Json> {
  const res = await request(completionsUrl, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    dispatcher: agent,
    signal,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`upstream ${res.statusCode}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

interface Search {
  url: string;
  title: string;
}

async function webSearch(query: string, signal: AbortSignal): Promise<{ content: string; found: Search[] }> {
  const url = `${simUrl}/search?q=${encodeURIComponent(query)}&format=json`;
  const res = await request(url, { dispatcher: agent, signal });
  const payload = JSON.parse(await res.body.text());
  const results = (payload.results as Json[])
    .slice(0, 5)
    .map((r) => ({ title: r.title, url: r.url, snippet: r.content }));
  return {
    content: JSON.stringify({ query, results }),
    found: results.map((r) => ({ url: r.url, title: r.title })),
  };
}

/** One panelist's tool loop: call, run the tools it asks for, call again, until it answers. */
async function panelist(model: string, question: string, signal: AbortSignal) {
  const messages: Json[] = [
    { role: "system", content: fixtures.panelSystem },
    { role: "user", content: question },
  ];
  const sources: Search[] = [];
  for (let step = 0; step < 8; step++) {
    const out = await complete(
      { model, messages, tools: fixtures.panelTools, tool_choice: "auto", stream: false },
      innerHeaders,
      signal,
    );
    const message = out.choices[0].message;
    if (!message.tool_calls?.length) return { model, content: message.content as string, sources };
    messages.push({ role: "assistant", content: null, tool_calls: message.tool_calls });
    for (const call of message.tool_calls) {
      const args = JSON.parse(call.function.arguments);
      const { content, found } = await webSearch(args.query ?? question, signal);
      sources.push(...found);
      messages.push({ role: "tool", tool_call_id: call.id, content });
    }
  }
  throw new Error(`${model}: too many tool steps`);
}

function judgePrompt(
  question: string,
  answers: Array<{ model: string; content: string; sources: Search[] }>,
) {
  const parts = [`<request>\n${question}\n</request>\n\nThe panel's answers:`];
  for (const a of answers) {
    parts.push(`<response model="${a.model}">\n${a.content}\n</response>`);
    parts.push(
      `<sources model="${a.model}">\n${a.sources.map((s) => `${s.url} — ${s.title}`).join("\n")}\n</sources>`,
    );
  }
  return parts.join("\n\n");
}

let nextId = 0;

async function fusion(body: Json, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const plugin = (body.plugins as Json[]).find((p) => p.id === "fusion");
  const messages = body.messages as Json[];
  const question = [...messages].reverse().find((m) => m.role === "user")?.content as string;
  const judgeModel = plugin.model as string;
  const stream = body.stream === true;
  let keepAlive: NodeJS.Timeout | undefined;
  if (stream) {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    res.write(": OPENROUTER PROCESSING\n\n");
    keepAlive = setInterval(() => res.write(": OPENROUTER PROCESSING\n\n"), keepAliveMs);
  }
  try {
    const answers = await Promise.all(
      (plugin.analysis_models as string[]).map((m) => panelist(m, question, signal)),
    );
    const judged = await complete(
      {
        response_format: fixtures.judgeFormat,
        model: judgeModel,
        messages: [
          { role: "system", content: fixtures.judgeSystem },
          { role: "user", content: judgePrompt(question, answers) },
        ],
        tools: fixtures.panelTools,
        tool_choice: "auto",
        stream: false,
      },
      innerHeaders,
      signal,
    );
    const analysis = JSON.parse(judged.choices[0].message.content);
    const responses = answers.map((a) => ({ model: a.model, content: a.content }));
    const callId = `call_floor_${++nextId}`;
    const writerBody = {
      messages: [
        ...messages,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: callId,
              type: "function",
              function: { name: "openrouter_fusion", arguments: JSON.stringify({ question }) },
            },
          ],
        },
        {
          role: "tool",
          tool_call_id: callId,
          content: JSON.stringify({ status: "ok", responses, analysis }),
        },
      ],
      tools: fixtures.writerTools,
      tool_choice: "none",
      model: judgeModel,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    };
    if (!stream) {
      const completion = await complete(writerBody, upstreamHeaders, signal);
      const json = JSON.stringify({ ...completion, fusion: { status: "ok", responses, analysis } });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
      res.end(json);
      return;
    }
    const up = await request(completionsUrl, {
      method: "POST",
      headers: upstreamHeaders,
      body: JSON.stringify(writerBody),
      dispatcher: agent,
      signal,
    });
    // Relay every SSE event but the upstream's `[DONE]`; ours follows the analysis.
    let pending = "";
    for await (const chunk of up.body) {
      pending += (chunk as Buffer).toString("utf8");
      let end = pending.indexOf("\n\n");
      while (end >= 0) {
        const event = pending.slice(0, end + 2);
        pending = pending.slice(end + 2);
        if (!event.startsWith("data: [DONE]")) res.write(event);
        end = pending.indexOf("\n\n");
      }
    }
    res.write(
      `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [], fusion: { status: "ok", analysis } })}\n\n`,
    );
    res.end("data: [DONE]\n\n");
  } finally {
    if (keepAlive) clearInterval(keepAlive);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === "GET" && (req.url === "/healthz" || req.url === "/readyz"))
    return sendJson(res, 200, { ok: true });
  if (req.method !== "POST" || !req.url?.endsWith("/chat/completions"))
    return sendJson(res, 404, { error: { code: 404, message: "not found" } });
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    await fusion(JSON.parse(Buffer.concat(chunks).toString("utf8")), res, abort.signal);
  } catch (err) {
    sendJson(res, 502, { error: { code: 502, message: (err as Error).message } });
  }
}

const server = createServer((req, res) => void handle(req, res));
server.keepAliveTimeout = 65_000;
server.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1", backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ service: "floor", url: `http://127.0.0.1:${port}` })}\n`);
});

const stop = () => {
  server.close(() => void agent.close().finally(() => process.exit(0)));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
