import type { Context } from "hono";
import { parseChatRequest, type SimRequest } from "./chat-request.ts";
import {
  completionBodyText,
  type ResponseMeta,
  streamFrames,
  streamPayloads,
  usageFor,
} from "./chat-response.ts";
import { deciderTurn, plainTurn } from "./decider.ts";
import { delayedStream } from "./delayed-stream.ts";
import { judgeTurn } from "./judge.ts";
import { concreteModel } from "./model-name.ts";
import { panelistTurn } from "./panelist.ts";
import { replayFile, replayResponse } from "./replay.ts";
import { classifyRequest } from "./roles.ts";
import type { Role, Script } from "./script.ts";
import { sleep } from "./sleep.ts";
import type { SimulatorState } from "./state.ts";
import type { Turn, TurnContext } from "./turn.ts";
import { writerTurn } from "./writer.ts";

function errorResponse(status: number, message: string, retryAfter?: number): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  return new Response(JSON.stringify({ error: { code: status, message } }), { status, headers });
}

function decideTurn(role: Role, ctx: TurnContext, state: SimulatorState): Turn {
  switch (role) {
    case "writer":
      return writerTurn(ctx);
    case "decider":
      return deciderTurn(ctx);
    case "judge":
      return judgeTurn(ctx, () => state.countJudgeAnswer(ctx.req.model));
    case "panelist":
      return panelistTurn(ctx);
    case "plain":
      return plainTurn(ctx);
  }
}

function parseBody(raw: string): { ok: true; body: unknown } | { ok: false } {
  try {
    return { ok: true, body: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

/** `POST /v1/chat/completions` and its aliases. */
export async function handleChatCompletions(c: Context, state: SimulatorState): Promise<Response> {
  const path = c.req.path;
  const headers = c.req.header();
  const parsedBody = parseBody(await c.req.text());
  const body = parsedBody.ok ? parsedBody.body : null;
  const req: SimRequest | string = parsedBody.ok ? parseChatRequest(body) : "request body is not valid JSON";
  if (typeof req === "string") {
    const model =
      typeof body === "object" && body !== null && "model" in body && typeof body.model === "string"
        ? body.model
        : null;
    state.record({ path, model, role: null, stream: false, headers, body });
    return errorResponse(400, req);
  }

  const role = classifyRequest(req);
  const recorded = state.record({ path, model: req.model, role, stream: req.stream, headers, body });
  const signal = c.req.raw.signal;
  const scripted = state.scriptFor(req.model, role);
  const script: Script = scripted ?? {};

  if (scripted) {
    const index = state.countRequest(req.model);
    await sleep(scripted.latencyMs ?? 0, signal);
    if (scripted.alwaysFail) {
      const { status, message } = scripted.alwaysFail;
      return errorResponse(status, message ?? `Simulated upstream failure (${status})`);
    }
    const failure = scripted.failures?.[index];
    if (failure) {
      return errorResponse(
        failure.status,
        failure.message ?? `Simulated upstream failure (${failure.status})`,
        failure.retryAfter,
      );
    }
    const file = scripted.replay && replayFile(scripted.replay, state.countReplay(req.model));
    if (file) {
      recorded.replayed = file;
      return replayResponse(file, req.model, req.stream);
    }
  }

  const ctx: TurnContext = {
    req,
    script,
    concreteModel: concreteModel(req.model),
    baseUrl: new URL(c.req.url).origin,
    seq: recorded.seq,
  };
  const turn = decideTurn(role, ctx, state);
  const usage = usageFor(req.rawMessages, turn);
  recorded.usage = usage;
  const meta: ResponseMeta = {
    id: `gen-sim-${recorded.seq}`,
    created: Math.floor(recorded.at / 1000),
    model: ctx.concreteModel,
  };

  if (req.stream) {
    const payloads = streamPayloads(meta, turn, usage, req.includeUsage, script.corrupt);
    return new Response(delayedStream(streamFrames(payloads, script), signal), {
      status: 200,
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
      },
    });
  }
  const text = completionBodyText(meta, turn, usage, script.corrupt);
  if (script.hangMs) {
    return new Response(delayedStream([{ delayMs: script.hangMs, data: text }], signal), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  }
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
}
