import { ModelRoutes, presetCatalog } from "@fusion/llm-client";
import { annotateActiveSpan, newFusionId } from "@fusion/runtime";
import { FUSION_DEPTH_HEADER, FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { classify } from "../flow/classify.ts";
import { fusionEnqueuer } from "../flow/enqueue-fusion.ts";
import { proxyRequest } from "../flow/proxy-request.ts";
import { unroutedModel } from "../flow/unrouted-model.ts";
import { acquireFusionSlot } from "../limits/acquire-fusion-slot.ts";
import { chatRequestParser } from "../request/parse-chat-request.ts";
import { PROGRESS_HEADER, wantsProgressEvents } from "../sse/fusion-meta.ts";
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

  return factory.createApp().post("/chat/completions", async (c) => {
    const raw = await c.req.text();
    const request = parse(raw);
    const depth = Number.parseInt(c.req.header(FUSION_DEPTH_HEADER) ?? "0", 10) || 0;
    const plan = classify(request, depth, presets);

    if (plan.kind === "proxy") {
      const body = plan.body ? JSON.stringify(plan.body) : raw;
      return proxyRequest(deps.upstream, body, { depth, signal: c.req.raw.signal });
    }

    const unrouted = unroutedModel(plan, routes);
    if (unrouted) throw new FusionError("bad_request", `invalid request: ${unrouted}`);

    const fusionId = newFusionId();
    annotateActiveSpan({ "fusion.id": fusionId, "fusion.entry": plan.entry, "fusion.mode": plan.mode });
    await acquireFusionSlot(c, fusionId);
    const requestId = c.get("requestId");
    const stream = request.stream === true;
    const progressEvents = wantsProgressEvents(request.fusion, c.req.header(PROGRESS_HEADER));
    const accepted = enqueueFusion({
      fusionId,
      requestId,
      owner: c.get("keyId"),
      plan,
      stream,
      includeUsage: request.stream_options?.include_usage === true,
      progress: progressEvents,
    });

    if (!stream) return fusionJsonResponse(c, deps, { fusionId, requestId, accepted });
    // Should the enqueue fail, the stream ends with a 503 error chunk.
    return fusionSseResponse(deps, {
      fusionId,
      requestId,
      model: plan.writerModel,
      progressEvents,
      ready: accepted,
      headers: { "x-fusion-id": fusionId, "x-request-id": requestId },
    });
  });
}
