import { newToolCallId } from "@fusion/llm-client";
import { distinctQuestion, lastUserText } from "@fusion/pipeline";
import {
  armWebhook,
  buildForcedFlow,
  fusionPriority,
  jobIds,
  jobOptions,
  keys,
  queueConversation,
  queueNames,
  type RedisClient,
  WEBHOOK_FIELDS,
  withSpan,
} from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { FlowProducer, JobsOptions, ParentOptions, Queue } from "bullmq";
import { PROMPT_PREVIEW_CHARS, type ProgressMode, progressLevel, writeMeta } from "./fusion-meta.ts";
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
  /** The callback notified when it ends (checked by `webhookTarget`); none when undefined. */
  webhookUrl?: string | undefined;
  /** Answered at once (202): a reader that leaves never cancels it. */
  async: boolean;
  /** When it was accepted (epoch ms): its `created`. */
  createdAt: number;
  /**
   * Background work (a batch's line): recorded in its meta, for the queues to serve interactive
   * fusions first. Absent: interactive.
   */
  background?: boolean | undefined;
  /**
   * A job that waits for the fusion: its turn job becomes that job's child (BullMQ `parent`), failing
   * or not without failing it (`ignoreDependencyOnFailure`). The job must be in the fusion's queue shard.
   */
  parent?: ParentOptions | undefined;
}

/** A queue shard as the enqueue sees it: its prefix and its turn queue. */
export interface IntakeShard {
  prefix: string;
  queues: { turn: Pick<Queue, "add"> };
}

/** What the enqueue works with (the gateway's deps, or a worker's). */
export interface IntakeDeps {
  env: { JOB_RETENTION_SECONDS: number; FUSION_TIMEOUT_MS: number; STREAM_RETENTION_SECONDS: number };
  logger: { info(fields: object, message: string): void; error(fields: object, message: string): void };
  redis: RedisClient;
  flows: Pick<FlowProducer, "add">;
  /** The shard of a fusion (see runtime `shardOfFusion`). */
  shardOf(fusionId: string): IntakeShard;
}

export type EnqueueFusion = (fusion: AcceptedFusion) => Promise<void>;

/**
 * Puts fusions on the queues: an offered fusion as one turn job (the writer decides), a forced one as
 * the whole flow (panel jobs under the judge under the turn). The fusion's meta (owner, model, stream,
 * what the listing shows) is written first, with its entry in its owner's index and the stored
 * conversation, for the endpoints that read, resume or list it. Resolves once both are in Redis;
 * rejects with 503 in the error shape when they could not be written.
 */
export function fusionEnqueuer(deps: IntakeDeps): EnqueueFusion {
  const { env, logger } = deps;
  const retention = {
    completedAgeSeconds: env.JOB_RETENTION_SECONDS,
    failedAgeSeconds: env.JOB_RETENTION_SECONDS * 24,
  };
  const metaTtlSeconds = Math.ceil(env.FUSION_TIMEOUT_MS / 1000) + env.STREAM_RETENTION_SECONDS;

  return (fusion) => {
    const { fusionId, requestId, plan, stream } = fusion;
    const progress = progressLevel(stream, fusion.progress);
    // Async requests and batch lines run behind interactive fusions in every queue (fusionPriority).
    const lowPriority = fusion.async || fusion.background === true;
    const turn = {
      ...turnJobFor(plan, {
        fusionId,
        requestId,
        stream,
        includeUsage: fusion.includeUsage,
        progress,
        createdAt: fusion.createdAt,
      }),
      ...(lowPriority ? { background: true } : {}),
    };
    // The fusion's queue shard, from its id alone: any gateway finds its jobs again.
    const shard = deps.shardOf(fusionId);
    const child: JobsOptions = fusion.parent
      ? { parent: fusion.parent, ignoreDependencyOnFailure: true }
      : {};
    const enqueue = async () => {
      // Stored once, before the jobs that refer to it (they carry only the fusion id), in the meta's
      // transaction: meta, owner index and conversation in one round trip.
      const forced = plan.mode === "forced" ? { forcedCallId: newToolCallId() } : {};
      // Its expiry rides with it: the fusion's tool-call counter takes that lifetime (fusion-tool-budget).
      const expiresAt = Date.now() + metaTtlSeconds * 1000;
      const conversation = { body: plan.turnBody, ...forced, expiresAt };
      const { webhookUrl } = fusion;
      // In its shard's webhook outbox before it can end (webhooks/webhook-outbox.ts in the runtime).
      if (webhookUrl) await armWebhook(deps.redis, shard.prefix, fusionId, expiresAt);
      await writeMeta(deps.redis, fusionId, meta, metaTtlSeconds, (tx) => {
        const queued = queueConversation(tx, fusionId, conversation, metaTtlSeconds);
        return webhookUrl ? queued.hset(keys.meta(fusionId), WEBHOOK_FIELDS.url, webhookUrl) : queued;
      });
      if (plan.mode === "offered") {
        await shard.queues.turn.add("turn", turn, {
          ...jobOptions(queueNames.turn, retention),
          ...fusionPriority(lowPriority),
          jobId: jobIds.turn(fusionId),
          ...child,
        });
        return;
      }
      const flow = buildForcedFlow(turn, {
        fusionId,
        requestId,
        question: distinctQuestion(plan.messages, plan.question),
        settings: plan.settings,
        progress,
        prefix: shard.prefix,
        retention,
        background: lowPriority,
      });
      await deps.flows.add({ ...flow, opts: { ...flow.opts, ...child } });
    };
    const meta = {
      owner: fusion.owner,
      created: turn.createdAt,
      model: plan.writerModel,
      stream,
      progress: fusion.progress,
      resumeGraceMs: fusion.resumeGraceMs,
      async: fusion.async,
      requested: fusion.requestedModel,
      models: plan.settings.analysisModels,
      judge: plan.settings.judgeModel,
      prompt: lastUserText(plan.messages).slice(0, PROMPT_PREVIEW_CHARS),
      ...(fusion.background ? { background: true } : {}),
    };
    // BullMQ's own spans (addFlow, addNode per job) are children of this one.
    return withSpan("fusion enqueue", { attributes: { "fusion.id": fusionId } }, enqueue).then(
      () => {
        const fields = {
          entry: plan.entry,
          mode: plan.mode,
          panel: plan.settings.analysisModels.length,
          stream,
          async: fusion.async,
          ...(fusion.background ? { background: true } : {}),
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
