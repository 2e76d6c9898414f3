import { ModelRoutes, presetCatalog, UpstreamError } from "@fusion/llm-client";
import {
  annotateActiveSpan,
  buildForcedFlow,
  jobIds,
  jobOptions,
  newFusionId,
  newToolCallId,
  queueNames,
  type TurnJobInput,
  withSpan,
} from "@fusion/runtime";
import { chatRequestSchemaFor, FUSION_DEPTH_HEADER, FUSION_TOOL_NAME, FusionError } from "@fusion/wire";
import { Hono } from "hono";
import type { AppEnv, GatewayDeps } from "../app.ts";
import { classify, unroutedModel } from "../classify.ts";
import { wantsProgressEvents, writeMeta } from "../fusion-meta.ts";
import { checkRequestLimits } from "../limits.ts";
import { acquireFusionSlot } from "../rate-limit.ts";
import { fusionSseStream, SSE_HEADERS } from "../sse.ts";
import { finalOrError } from "./fusions.ts";

export const PROGRESS_HEADER = "x-fusion-progress";

export function chatCompletionsRoute(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { env, logger } = deps;
  const retention = {
    completedAgeSeconds: env.JOB_RETENTION_SECONDS,
    failedAgeSeconds: env.JOB_RETENTION_SECONDS * 24,
  };
  const metaTtlSeconds = Math.ceil(env.FUSION_TIMEOUT_MS / 1000) + env.STREAM_RETENTION_SECONDS;
  // The built-in presets, or those of the providers file (FUSION_CONFIG).
  const presets = presetCatalog(env.FUSION_CONFIG);
  const requestSchema = chatRequestSchemaFor(presets);
  const config = env.FUSION_CONFIG;
  const routes = config && new ModelRoutes(config.routes, config.providers);

  app.post("/chat/completions", async (c) => {
    const raw = await c.req.text();
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new FusionError("bad_request", "the request body is not valid JSON");
    }
    checkRequestLimits(json, env);
    const parsed = requestSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`);
      throw new FusionError("bad_request", `invalid request: ${issues.join("; ")}`);
    }
    const request = parsed.data;
    const depth = Number.parseInt(c.req.header(FUSION_DEPTH_HEADER) ?? "0", 10) || 0;
    const plan = classify(request, depth, presets);

    if (plan.kind === "proxy") {
      const body = plan.body ? JSON.stringify(plan.body) : raw;
      const headers: Record<string, string> = {};
      if (depth > 0) headers[FUSION_DEPTH_HEADER] = String(depth);
      try {
        const res = await deps.upstream.proxy("/chat/completions", body, {
          signal: c.req.raw.signal,
          headers,
        });
        const out = new Headers();
        for (const name of ["content-type", "retry-after", "cache-control"]) {
          const v = res.headers[name];
          if (v) out.set(name, v);
        }
        return new Response(res.body, { status: res.status, headers: out });
      } catch (err) {
        if (err instanceof UpstreamError) {
          const code = err.kind === "timeout" ? "timeout" : "upstream_error";
          throw new FusionError(code, `upstream request failed: ${err.message}`);
        }
        throw err;
      }
    }

    const unrouted = unroutedModel(plan, routes);
    if (unrouted) throw new FusionError("bad_request", `invalid request: ${unrouted}`);

    const fusionId = newFusionId();
    annotateActiveSpan({ "fusion.id": fusionId, "fusion.entry": plan.entry, "fusion.mode": plan.mode });
    await acquireFusionSlot(c, fusionId);
    const requestId = c.get("requestId");
    const stream = request.stream === true;
    const progressEvents = wantsProgressEvents(
      request as { fusion?: unknown },
      c.req.header(PROGRESS_HEADER),
    );
    const turn: TurnJobInput = {
      fusionId,
      requestId,
      emitProgress: stream,
      mode: plan.mode,
      stream,
      includeUsage: request.stream_options?.include_usage === true,
      writerModel: plan.writerModel,
      body: plan.turnBody,
      settings: plan.settings,
      createdAt: Date.now(),
      step: plan.mode === "forced" ? "await-fusion" : "decide",
    };
    const enqueue = async () => {
      if (plan.mode === "offered") {
        await deps.queues.turn.add("turn", turn, {
          ...jobOptions(queueNames.turn, retention),
          jobId: jobIds.turn(fusionId),
        });
        return;
      }
      const fusionCallId = newToolCallId();
      turn.decision = {
        assistant: {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: fusionCallId,
              type: "function",
              function: { name: FUSION_TOOL_NAME, arguments: JSON.stringify({ question: plan.question }) },
            },
          ],
        },
        fusionCallId,
        question: plan.question,
        usage: {},
        extraCallIds: [],
      };
      await deps.flows.add(
        buildForcedFlow(turn, {
          fusionId,
          requestId,
          messages: plan.messages,
          question: plan.question,
          settings: plan.settings,
          emitProgress: stream,
          prefix: env.QUEUE_PREFIX,
          retention,
        }),
      );
    };
    // BullMQ's own spans (addFlow, addNode per job) are children of this one.
    const tracedEnqueue = () =>
      withSpan("fusion enqueue", { attributes: { "fusion.id": fusionId } }, enqueue);
    const meta = {
      owner: c.get("keyId"),
      created: turn.createdAt,
      model: plan.writerModel,
      stream,
      progress: progressEvents,
    };
    const accepted = Promise.all([
      writeMeta(deps.redis, fusionId, meta, metaTtlSeconds),
      tracedEnqueue(),
    ]).then(
      () => {
        const fields = {
          entry: plan.entry,
          mode: plan.mode,
          panel: plan.settings.analysisModels.length,
          stream,
        };
        logger.info({ fusionId, requestId, ...fields }, "fusion accepted");
      },
      (err: unknown) => {
        logger.error({ err, fusionId, requestId }, "could not enqueue the fusion");
        throw new FusionError("unavailable", "the service cannot take work right now (queue unavailable)");
      },
    );

    const onClientGone = () => deps.readers.clientGone(fusionId, requestId);

    if (stream) {
      // The headers and a first keep-alive go out while the fusion is enqueued: a streaming client's
      // first byte does not wait for Redis. Should the enqueue fail, the stream ends with a 503 error chunk.
      const body = fusionSseStream({
        ready: accepted,
        relay: deps.relay,
        fusionId,
        model: plan.writerModel,
        progressEvents,
        keepAliveMs: env.KEEPALIVE_MS,
        deadlineMs: env.FUSION_TIMEOUT_MS,
        onClientGone,
        onStart: () => deps.readers.attach(fusionId),
        onEnd: () => deps.readers.detach(fusionId),
      });
      return new Response(body, {
        status: 200,
        headers: { ...SSE_HEADERS, "x-fusion-id": fusionId, "x-request-id": requestId },
      });
    }

    await accepted;
    c.header("X-Fusion-Id", fusionId);
    const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(env.FUSION_TIMEOUT_MS)]);
    try {
      for await (const stored of deps.relay.read(fusionId, { signal, idleMs: env.KEEPALIVE_MS })) {
        const done = finalOrError(stored);
        if (done) return c.json(done.body, done.status as 200);
      }
    } catch (err) {
      logger.warn({ err, fusionId }, "relay failed");
      throw new FusionError("unavailable", "lost the connection to the fusion's output");
    }
    onClientGone();
    if (c.req.raw.signal.aborted) return c.body(null, 499 as 400);
    throw new FusionError("timeout", "the fusion did not finish in time");
  });

  return app;
}
