import { newToolCallId } from "@fusion/llm-client";
import { distinctQuestion, lastUserText } from "@fusion/pipeline";
import {
  buildForcedFlow,
  jobIds,
  jobOptions,
  queueConversation,
  queueNames,
  withSpan,
} from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { PROMPT_PREVIEW_CHARS, type ProgressMode, progressLevel, writeMeta } from "../sse/fusion-meta.ts";
import type { FusionPlan } from "./classify.ts";
import { turnJobFor } from "./turn-job.ts";

/** A fusion the gateway accepted, to be put on the queues. */
export interface AcceptedFusion {
  fusionId: string;
  requestId: string;
  /** The id of the API key that started it: only that key may read it later. */
  owner: string;
  plan: FusionPlan;
  /** The model the request named (the listing shows it). */
  requestedModel: string;
  stream: boolean;
  includeUsage: boolean;
  /** How its stream shows progress (and so what progress its stages write). */
  progress: ProgressMode;
  /** How long it keeps running, once its client left, for a resume. */
  resumeGraceMs: number;
}

export type EnqueueFusion = (fusion: AcceptedFusion) => Promise<void>;

/**
 * Puts fusions on the queues: an offered fusion as one turn job (the writer decides), a forced one as
 * the whole flow (panel jobs under the judge under the turn). The fusion's meta (owner, model, stream,
 * what the listing shows) is written first, with its entry in its owner's index and the stored
 * conversation, for the endpoints that read, resume or list it. Resolves once both are in Redis;
 * rejects with 503 in the error shape when they could not be written.
 */
export function fusionEnqueuer(
  deps: Pick<GatewayDeps, "env" | "logger" | "redis" | "shardOf" | "flows">,
): EnqueueFusion {
  const { env, logger } = deps;
  const retention = {
    completedAgeSeconds: env.JOB_RETENTION_SECONDS,
    failedAgeSeconds: env.JOB_RETENTION_SECONDS * 24,
  };
  const metaTtlSeconds = Math.ceil(env.FUSION_TIMEOUT_MS / 1000) + env.STREAM_RETENTION_SECONDS;

  return (fusion) => {
    const { fusionId, requestId, plan, stream } = fusion;
    const progress = progressLevel(stream, fusion.progress);
    const turn = turnJobFor(plan, {
      fusionId,
      requestId,
      stream,
      includeUsage: fusion.includeUsage,
      progress,
    });
    // The fusion's queue shard, from its id alone: any gateway finds its jobs again.
    const shard = deps.shardOf(fusionId);
    const enqueue = async () => {
      // Stored once, before the jobs that refer to it (they carry only the fusion id), in the meta's
      // transaction: meta, owner index and conversation in one round trip.
      const forced = plan.mode === "forced" ? { forcedCallId: newToolCallId() } : {};
      // Its expiry rides with it: the fusion's tool-call counter takes that lifetime (fusion-tool-budget).
      const expiresAt = Date.now() + metaTtlSeconds * 1000;
      const conversation = { body: plan.turnBody, ...forced, expiresAt };
      await writeMeta(deps.redis, fusionId, meta, metaTtlSeconds, (tx) =>
        queueConversation(tx, fusionId, conversation, metaTtlSeconds),
      );
      if (plan.mode === "offered") {
        await shard.queues.turn.add("turn", turn, {
          ...jobOptions(queueNames.turn, retention),
          jobId: jobIds.turn(fusionId),
        });
        return;
      }
      await deps.flows.add(
        buildForcedFlow(turn, {
          fusionId,
          requestId,
          question: distinctQuestion(plan.messages, plan.question),
          settings: plan.settings,
          progress,
          prefix: shard.prefix,
          retention,
        }),
      );
    };
    const meta = {
      owner: fusion.owner,
      created: turn.createdAt,
      model: plan.writerModel,
      stream,
      progress: fusion.progress,
      resumeGraceMs: fusion.resumeGraceMs,
      requested: fusion.requestedModel,
      models: plan.settings.analysisModels,
      judge: plan.settings.judgeModel,
      prompt: lastUserText(plan.messages).slice(0, PROMPT_PREVIEW_CHARS),
    };
    // BullMQ's own spans (addFlow, addNode per job) are children of this one.
    return withSpan("fusion enqueue", { attributes: { "fusion.id": fusionId } }, enqueue).then(
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
  };
}
