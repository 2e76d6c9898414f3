import { classify, PROGRESS_HEADER, progressMode, upstreamIdentity } from "@fusion/intake";
import { ModelRoutes, presetCatalog } from "@fusion/llm-client";
import { newFusionId, type OpenStream } from "@fusion/runtime";
import { FUSION_DEPTH_HEADER, FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";
import { proxyRequest } from "../flow/proxy-request.ts";
import { asksAsync, asyncAccepted } from "../flow/respond-async.ts";
import { resumeGraceMs } from "../flow/resume-grace.ts";
import { fusionStarter } from "../flow/start-fusion.ts";
import { unroutedModel } from "../flow/unrouted-model.ts";
import { claimIdempotencyKey } from "../idempotency/claim-idempotency-key.ts";
import { idempotencyKey } from "../idempotency/idempotency-key.ts";
import { replayFusion } from "../idempotency/replay-fusion.ts";
import { requestFingerprint } from "../idempotency/request-fingerprint.ts";
import { openStreamSlot } from "../limits/open-stream-slot.ts";
import { chatRequestParser } from "../request/parse-chat-request.ts";
import { fusionJsonResponse, fusionSseResponse } from "../sse/fusion-response.ts";
import { webhookTarget } from "../webhooks/webhook-target.ts";

/**
 * `POST /chat/completions`: validates the request, then either proxies it to the upstream or accepts it
 * as a fusion (enqueued on the queues) and answers with the fusion's SSE stream, its final completion as
 * JSON when not streaming, or at once with 202 when asked to (`Prefer: respond-async`). A fusion request
 * with an `Idempotency-Key` its key already used is answered with that fusion instead (see
 * `claimIdempotencyKey`). A pass-through ignores both: nothing of it is stored, so there is nothing to
 * answer later or again.
 */
export function chatCompletionsRoute(deps: GatewayDeps) {
  const { env } = deps;
  // The built-in presets, or those of the providers file (FUSION_CONFIG).
  const presets = presetCatalog(deps.providers);
  const parse = chatRequestParser(env, presets);
  const config = deps.providers;
  const routes = config && new ModelRoutes(config.routes, config.providers);
  const startFusion = fusionStarter(deps);
  const identity = upstreamIdentity(env, config);

  return factory.createApp().post("/chat/completions", async (c) => {
    const { request, validatedText, json } = parse(await c.req.text());
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
    // Checked (400) before anything is taken: the callback the fusion notifies when it ends.
    const webhookUrl = await webhookTarget(request.fusion, env);
    const respondAsync = asksAsync(c.req.header("prefer"), request.fusion);
    const key = idempotencyKey(c.req.header("idempotency-key"));
    // A request with a key may drop and retry: its fusion waits for it unless it asks otherwise.
    const graceMs = resumeGraceMs(request.fusion, {
      defaultMs: key === undefined ? env.RESUME_GRACE_MS : env.IDEMPOTENT_RESUME_GRACE_MS,
      maxMs: env.RESUME_GRACE_MAX_MS,
    });

    const owner = c.get("keyId");
    const scope = key === undefined ? undefined : { owner, key };
    let fusionId = newFusionId();
    if (scope) {
      const start = await claimIdempotencyKey(deps, scope, requestFingerprint(json, respondAsync));
      if (start.kind === "replay") {
        const fields = { fusionId: start.fusionId, requestId: c.get("requestId") };
        deps.logger.info(fields, "Idempotency-Key used before: answering with its fusion");
        return replayFusion(c, deps, start.fusionId, start.meta);
      }
      fusionId = start.fusionId;
    }
    const releaseKey = async () => {
      if (!scope) return;
      await deps.idempotency
        .release(scope, fusionId)
        .catch((err: Error) =>
          deps.logger.warn({ err: err.message, fusionId }, "could not free an Idempotency-Key"),
        );
    };

    const requestId = c.get("requestId");
    const stream = request.stream === true;
    const progress = progressMode(request.fusion, c.req.header(PROGRESS_HEADER));
    const createdAt = Date.now();
    let streamSlot: OpenStream | undefined;
    let accepted: Promise<void>;
    try {
      // A stream counts against the key's open streams before its fusion starts (429 beyond).
      if (stream && !respondAsync) streamSlot = await openStreamSlot(deps, owner);
      ({ accepted } = await startFusion({
        fusionId,
        requestId,
        owner,
        keyLimits: c.get("keyLimits"),
        plan,
        requestedModel: request.model,
        stream,
        includeUsage: request.stream_options?.include_usage === true,
        progress,
        resumeGraceMs: graceMs,
        webhookUrl,
        async: respondAsync,
        createdAt,
      }));
    } catch (err) {
      // Refused: the key is free for a retry.
      streamSlot?.release();
      await releaseKey();
      throw err;
    }
    if (scope) {
      accepted.then(
        () =>
          deps.idempotency
            .commit(scope, fusionId)
            .catch((err: Error) =>
              deps.logger.warn({ err: err.message, fusionId }, "could not commit an Idempotency-Key"),
            ),
        releaseKey,
      );
    }

    if (respondAsync) {
      // Answered once the fusion is in Redis (a failed enqueue is a 503), not when it ends.
      await accepted;
      return asyncAccepted(
        c.req.path,
        { fusionId, created: createdAt, model: plan.writerModel, status: "queued" },
        { "x-request-id": requestId },
      );
    }
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
