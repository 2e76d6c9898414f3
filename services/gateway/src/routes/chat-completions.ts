import { ModelRoutes, presetCatalog } from "@fusion/llm-client";
import { annotateActiveSpan, newFusionId } from "@fusion/runtime";
import { FUSION_DEPTH_HEADER, FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { classify } from "../flow/classify.ts";
import { fusionEnqueuer } from "../flow/enqueue-fusion.ts";
import { proxyRequest } from "../flow/proxy-request.ts";
import { resumeGraceMs } from "../flow/resume-grace.ts";
import { unroutedModel } from "../flow/unrouted-model.ts";
import { upstreamIdentity } from "../flow/upstream-identity.ts";
import { acquireFusionSlot } from "../limits/acquire-fusion-slot.ts";
import { openStreamSlot } from "../limits/open-stream-slot.ts";
import { redisMemoryAdmission } from "../limits/redis-memory-admission.ts";
import { chatRequestParser } from "../request/parse-chat-request.ts";
import { PROGRESS_HEADER, progressMode } from "../sse/fusion-meta.ts";
import { fusionJsonResponse, fusionSseResponse } from "../sse/fusion-response.ts";

/**
 * `POST /chat/completions`: validates the request, then either proxies it to the upstream or accepts it
 * as a fusion (enqueued on the queues) and answers with the fusion's SSE stream or, when not streaming,
 * its final completion as JSON.
 */
export function chatCompletionsRoute(deps: GatewayDeps) {
  const { env } = deps;
  // The built-in presets, or those of the providers file (FUSION_CONFIG).
  const presets = presetCatalog(deps.providers);
  const parse = chatRequestParser(env, presets);
  const config = deps.providers;
  const routes = config && new ModelRoutes(config.routes, config.providers);
  const enqueueFusion = fusionEnqueuer(deps);
  const identity = upstreamIdentity(env, config);
  const admitFusion = redisMemoryAdmission(deps.redis, {
    thresholdPercent: env.REDIS_MEMORY_ADMISSION_PERCENT,
    logger: deps.logger,
  });

  return factory.createApp().post("/chat/completions", async (c) => {
    const { request, validatedText } = parse(await c.req.text());
    const depth = Number.parseInt(c.req.header(FUSION_DEPTH_HEADER) ?? "0", 10) || 0;
    const plan = classify(request, depth, presets);

    if (plan.kind === "proxy") {
      const body = plan.body ? JSON.stringify(plan.body) : validatedText();
      const model = typeof plan.body?.model === "string" ? plan.body.model : request.model;
      // Refused here, not by the router, so that an upstream's answer is all that becomes an upstream error.
      if (routes && !routes.resolve(model))
        throw new FusionError("bad_request", `no provider route matches model "${model}"`);
      return proxyRequest(deps.upstream, body, { depth, signal: c.req.raw.signal, model, identity });
    }

    const unrouted = unroutedModel(plan, routes);
    if (unrouted) throw new FusionError("bad_request", `invalid request: ${unrouted}`);

    const graceMs = resumeGraceMs(request.fusion, {
      defaultMs: env.RESUME_GRACE_MS,
      maxMs: env.RESUME_GRACE_MAX_MS,
    });

    // Refused (503) before it takes anything while Redis is near its memory limit.
    await admitFusion();
    // A stream counts against the key's open streams before its fusion starts (429 beyond).
    const streamSlot = request.stream === true ? await openStreamSlot(deps, c.get("keyId")) : undefined;
    const fusionId = newFusionId();
    annotateActiveSpan({ "fusion.id": fusionId, "fusion.entry": plan.entry, "fusion.mode": plan.mode });
    await acquireFusionSlot(c, deps.slots, fusionId).catch((err: unknown) => {
      streamSlot?.release();
      throw err;
    });
    const requestId = c.get("requestId");
    const owner = c.get("keyId");
    const stream = request.stream === true;
    const progress = progressMode(request.fusion, c.req.header(PROGRESS_HEADER));
    const accepted = enqueueFusion({
      fusionId,
      requestId,
      owner,
      plan,
      requestedModel: request.model,
      stream,
      includeUsage: request.stream_options?.include_usage === true,
      progress,
      resumeGraceMs: graceMs,
    });
    // A fusion that was never enqueued frees its slot at once.
    accepted.catch(() => deps.slots.drop(fusionId));

    const fusion = { fusionId, requestId, owner, resumeGraceMs: graceMs };
    if (!stream) return fusionJsonResponse(c, deps, { ...fusion, accepted });
    // Should the enqueue fail, the stream ends with a 503 error chunk.
    return fusionSseResponse(deps, {
      ...fusion,
      model: plan.writerModel,
      progressEvents: progress !== "comments",
      ready: accepted,
      ...(streamSlot ? { streamSlot } : {}),
      headers: { "x-fusion-id": fusionId, "x-request-id": requestId },
    });
  });
}
