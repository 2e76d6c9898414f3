/**
 * The in-process baseline: the same fusion pipeline in one process, with no queue, no Redis and no
 * relay. It calls the shared code directly (`UpstreamClient`, `runToolLoop`, `buildPanelMessages`,
 * `buildJudgeMessages`, `parseAnalysis`, `createWebTools`): `Promise.all` over the panel, then the
 * judge (with its one repair, as the judge worker does), then the writer's call, streamed token by token
 * straight onto the client's response. A bare `node:http` front speaks the same API subset as the
 * gateway for the bench's request (`openrouter/fusion` with the fusion plugin, streaming or not), so
 * that one load generator measures both the same way over loopback.
 *
 *   SIM_URL=http://127.0.0.1:PORT node bench/baseline.ts   → prints {"service":"baseline","url":...}
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { runToolLoop, UpstreamClient } from "@fusion/llm-client";
import {
  buildJudgeMessages,
  buildPanelMessages,
  lastUserText,
  parseAnalysis,
  repairMessage,
} from "@fusion/pipeline";
import { newFusionId, newToolCallId } from "@fusion/runtime";
import { createWebTools } from "@fusion/web-tools";
import {
  type AssistantTurn,
  addUsage,
  analysisJsonSchema,
  type ChatMessage,
  FUSION_TOOL_NAME,
  type FusionFields,
  type FusionToolResult,
  fusionFunctionTool,
  innerCallBody,
  resolveFusionSettings,
  type Usage,
} from "@fusion/wire";

const simUrl = process.env.SIM_URL;
if (!simUrl) throw new Error("SIM_URL is required");
const keepAliveMs = Number(process.env.KEEPALIVE_MS ?? 10_000);
const innerHeaders = { "x-openrouter-fusion-depth": "1" };

// The same settings the worker runtime builds from its environment (see worker-runtime.ts and the
// bench's Stack environment).
const upstream = new UpstreamClient({
  baseUrl: `${simUrl}/v1`,
  apiKey: "sk-bench-baseline",
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 120_000,
  maxRetries: 3,
  retryBaseMs: 20,
  retryMaxMs: 3000,
  // Unset: the client's default pool size, as in the services. Set: an experiment (--baseline-connections).
  ...(process.env.UPSTREAM_CONNECTIONS ? { connections: Number(process.env.UPSTREAM_CONNECTIONS) } : {}),
});
const tools = createWebTools({
  searxngUrl: simUrl,
  allowHosts: [new URL(simUrl).host],
  fetchTimeoutMs: 15_000,
  maxChars: 20_000,
});

interface FusionRequest {
  model: string;
  stream?: boolean;
  messages: ChatMessage[];
  plugins?: Array<{ id: string } & FusionFields>;
  [key: string]: unknown;
}

/** The panel and the judge: the fusion tool's result and the usage of every inner call. */
async function deliberate(
  request: FusionRequest,
  signal: AbortSignal,
): Promise<{ result: FusionToolResult; usage: Usage; question: string; writerModel: string }> {
  const { id: _id, ...fields } = request.plugins?.find((p) => p.id === "fusion") ?? { id: "fusion" };
  const { settings, writerModel } = resolveFusionSettings(fields, "alias", request.model);
  const question = lastUserText(request.messages);
  const panelMessages = buildPanelMessages(request.messages, question);
  const call = { signal, headers: innerHeaders };

  const settled = await Promise.allSettled(
    settings.analysisModels.map((model) =>
      runToolLoop({
        client: upstream,
        tools,
        model,
        messages: panelMessages,
        toolNames: settings.tools,
        maxSteps: settings.maxToolCalls,
        body: innerCallBody(settings),
        call,
      }),
    ),
  );
  const responses: Array<{ model: string; content: string }> = [];
  const failedModels: string[] = [];
  const usages: Usage[] = [];
  settled.forEach((s, i) => {
    const model = settings.analysisModels[i] as string;
    const content = s.status === "fulfilled" ? s.value.turn.content.trim() : "";
    if (s.status === "fulfilled") usages.push(s.value.usage);
    if (content) responses.push({ model, content });
    else failedModels.push(model);
  });
  if (responses.length === 0) {
    return {
      result: { status: "error", error: "every panel model failed", failure_reason: "all_panels_failed" },
      usage: addUsage(...usages),
      question,
      writerModel,
    };
  }

  const body: Record<string, unknown> = {
    ...innerCallBody(settings),
    response_format: {
      type: "json_schema",
      json_schema: { name: "fusion_analysis", strict: true, schema: analysisJsonSchema },
    },
  };
  const base = {
    status: "ok" as const,
    responses,
    ...(failedModels.length ? { failed_models: failedModels } : {}),
  };
  try {
    const loop = await runToolLoop({
      client: upstream,
      tools,
      model: settings.judgeModel,
      messages: buildJudgeMessages(panelMessages, responses, failedModels),
      toolNames: settings.tools,
      maxSteps: settings.maxToolCalls,
      body,
      call,
    });
    usages.push(loop.usage);
    let analysis = parseAnalysis(loop.turn.content);
    if (!analysis.ok) {
      const { turn } = await upstream.complete(
        {
          ...body,
          model: settings.judgeModel,
          messages: [
            ...loop.messages,
            { role: "assistant", content: loop.turn.content },
            repairMessage(analysis.error),
          ],
        },
        call,
      );
      usages.push(turn.usage);
      analysis = parseAnalysis(turn.content);
    }
    const result: FusionToolResult = analysis.ok ? { ...base, analysis: analysis.analysis } : base;
    return { result, usage: addUsage(...usages), question, writerModel };
  } catch {
    return { result: base, usage: addUsage(...usages), question, writerModel };
  }
}

/** The writer's request, as the turn processor builds it for a forced fusion. */
function writerBody(
  request: FusionRequest,
  { result, question, writerModel }: { result: FusionToolResult; question: string; writerModel: string },
): Record<string, unknown> {
  const { model: _m, stream: _s, stream_options: _o, plugins: _p, ...rest } = request;
  const callId = newToolCallId();
  const messages: ChatMessage[] = [
    ...request.messages,
    {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: callId,
          type: "function",
          function: { name: FUSION_TOOL_NAME, arguments: JSON.stringify({ question }) },
        },
      ],
    },
    { role: "tool", tool_call_id: callId, content: JSON.stringify(result) },
  ];
  return { ...rest, model: writerModel, messages, tools: [fusionFunctionTool], tool_choice: "none" };
}

const frame = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;

async function handleFusion(
  request: FusionRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const abort = new AbortController();
  let finished = false;
  req.on("close", () => {
    if (!finished) abort.abort();
  });
  res.on("close", () => {
    if (!finished) abort.abort();
  });
  const id = newFusionId();
  const created = Math.floor(Date.now() / 1000);

  if (!request.stream) {
    try {
      const fused = await deliberate(request, abort.signal);
      const { result, usage } = fused;
      const body = writerBody(request, fused);
      const { turn } = await upstream.complete(body, { signal: abort.signal });
      finished = true;
      sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model: turn.model || (body.model as string),
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: turn.content || null },
            finish_reason: turn.finishReason === "tool_calls" ? "stop" : turn.finishReason,
            logprobs: null,
          },
        ],
        usage: addUsage(usage, turn.usage),
        fusion: result,
      });
    } catch (err) {
      finished = true;
      sendJson(res, 502, { error: { code: 502, message: (err as Error).message } });
    }
    return;
  }

  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-fusion-id": id,
  });
  res.write(": OPENROUTER PROCESSING\n\n");
  const keepAlive = setInterval(() => res.write(": OPENROUTER PROCESSING\n\n"), keepAliveMs);
  let model = "";
  try {
    const fused = await deliberate(request, abort.signal);
    const { result, usage } = fused;
    const body = writerBody(request, fused);
    model = body.model as string;
    const turn: AssistantTurn = await upstream.streamTurn(body, {
      signal: abort.signal,
      onText: (text, chunk) => {
        model = chunk.model || model;
        res.write(
          frame({
            id,
            object: "chat.completion.chunk",
            created,
            model,
            choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
          }),
        );
      },
    });
    res.write(
      frame({
        id,
        object: "chat.completion.chunk",
        created,
        model: turn.model || model,
        choices: [
          {
            index: 0,
            delta: {},
            finish_reason: turn.finishReason === "tool_calls" ? "stop" : turn.finishReason,
          },
        ],
        fusion: result,
        usage: addUsage(usage, turn.usage),
      }),
    );
  } catch (err) {
    res.write(
      frame({
        id,
        object: "chat.completion.chunk",
        created,
        model,
        error: { code: "server_error", status: 502, message: (err as Error).message },
        choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      }),
    );
  } finally {
    clearInterval(keepAlive);
    finished = true;
    res.end("data: [DONE]\n\n");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer(async (req, res) => {
  if (req.method === "GET" && (req.url === "/healthz" || req.url === "/readyz")) {
    return sendJson(res, 200, { ok: true });
  }
  if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
    return sendJson(res, 404, { error: { code: 404, message: "not found" } });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let request: FusionRequest;
  try {
    request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return sendJson(res, 400, { error: { code: 400, message: "the request body is not valid JSON" } });
  }
  await handleFusion(request, req, res);
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ service: "baseline", url: `http://127.0.0.1:${port}` })}\n`);
});

const stop = () => {
  server.close(() => {
    void upstream.close().finally(() => process.exit(0));
  });
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
