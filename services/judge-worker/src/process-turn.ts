import { describeFailure, UpstreamError } from "@fusion/llm-client";
import {
  AnswerEmitter,
  ChunkBuilder,
  citationsFor,
  lastUserText,
  progressReporter,
  stageOf,
  stageTools,
} from "@fusion/pipeline";
import {
  buildJudgeFlow,
  isCancelled,
  jobIds,
  keys,
  parseJobData,
  type TurnJobData,
  turnJobSchema,
  type WorkerRuntime,
} from "@fusion/runtime";
import type { PendingEvent } from "@fusion/wire";
import {
  type AssistantTurn,
  addServerToolUse,
  addUsage,
  type ChatMessage,
  emptyUsage,
  FUSION_TOOL_NAME,
  type FusionToolResult,
  fusionFunctionTool,
  type JudgeResult,
  judgeResultSchema,
  type Stage,
  type ToolCall,
  type Usage,
} from "@fusion/wire";
import { type FlowProducer, type Job, UnrecoverableError, WaitingChildrenError } from "bullmq";
import { readChildren } from "./children.ts";

const CAPPED: FusionToolResult = {
  status: "error",
  error: "fusion can be invoked once per turn; use the analysis you already have",
  failure_reason: "fusion_invocation_capped",
};

/**
 * The calling model's turn. Step `decide`: the model gets the fusion tool beside the caller's own tools
 * and answers, calls the caller's tools, or calls fusion. When it calls fusion, the judge flow is added
 * below this job and the job waits for its children (BullMQ's waiting-children pattern), holding no
 * worker slot meanwhile. Step `await-fusion` (where forced fusions start): the model writes the final
 * answer from the tool result.
 */
export function createTurnProcessor(runtime: WorkerRuntime, flows: FlowProducer) {
  return async (job: Job<TurnJobData>, token?: string, signal?: AbortSignal): Promise<{ done: true }> => {
    let data = parseJobData(turnJobSchema, job.data, "turn");
    const log = runtime.logger.child({ fusionId: data.fusionId, requestId: data.requestId });
    const chunks = new ChunkBuilder(data.fusionId, Math.floor(data.createdAt / 1000), data.writerModel);
    const emittedKey = keys.emitted(data.fusionId);
    // Before a step's first text reaches the client, record it: a retry of the step (its worker died)
    // must then end the stream with an error rather than send the text again or splice two answers.
    const emitter = new AnswerEmitter(runtime.events, data.fusionId, chunks, async () => {
      await runtime.redis
        .multi()
        .hset(emittedKey, data.step, "1")
        .expire(emittedKey, runtime.env.STREAM_RETENTION_SECONDS)
        .exec();
    });
    const reg = runtime.cancel.register(data.fusionId, signal);
    const call = { signal: reg.signal };
    const body = data.body as Record<string, unknown> & { messages: ChatMessage[]; tools?: unknown[] };
    const callerTools = (body.tools ?? []) as Array<{ type?: string; function?: { name?: string } }>;
    const writerStarted = Date.now();

    const progress = progressReporter(
      runtime.events,
      data.fusionId,
      data.emitProgress,
      { stage: "writer", model: data.writerModel },
      log,
    );

    const writerCall = async (extra: Record<string, unknown>): Promise<AssistantTurn> => {
      const request = { ...body, ...extra, model: data.writerModel };
      if (!data.stream) return (await runtime.upstream.complete(request, call)).turn;
      return runtime.upstream.streamTurn(request, {
        ...call,
        onText: (text, chunk) => emitter.text(text, chunk.model),
      });
    };

    try {
      if (await isCancelled(runtime.redis, data.fusionId)) return { done: true };
      if (data.stream && (await runtime.redis.hexists(emittedKey, data.step))) {
        throw new UnrecoverableError("the worker writing this answer stopped after part of it was sent");
      }

      if (data.step === "decide") {
        const decision = await writerCall({ tools: [...callerTools, fusionFunctionTool] });
        const fusionCalls = decision.toolCalls.filter((tc) => tc.function.name === FUSION_TOOL_NAME);
        if (fusionCalls.length === 0) {
          await finish(decision, decision.usage, undefined);
          return { done: true };
        }
        const [first, ...extra] = fusionCalls as [ToolCall, ...ToolCall[]];
        const question = questionOf(first) ?? lastUserText(body.messages);
        data = {
          ...data,
          step: "await-fusion",
          decision: {
            // The caller's own tool calls of this turn are dropped: the model may call them again after the fusion.
            assistant: { role: "assistant", content: decision.content || null, tool_calls: fusionCalls },
            fusionCallId: first.id,
            question,
            usage: decision.usage,
            extraCallIds: extra.map((tc) => tc.id),
          },
        };
        await job.updateData(data);
      }

      // The model called fusion (or it is forced). An offered fusion adds its judge flow below this job,
      // and on a retry adds it again if the first attempt stopped before it could (job ids make it idempotent).
      if (data.mode === "offered" && token) {
        if (await hasNoChildren(job)) {
          const flow = buildJudgeFlow({
            fusionId: data.fusionId,
            requestId: data.requestId,
            messages: body.messages,
            question: data.decision?.question ?? lastUserText(body.messages),
            settings: data.settings,
            emitProgress: data.emitProgress,
            prefix: runtime.env.QUEUE_PREFIX,
            retention: runtime.retention,
          });
          await flows.add({
            ...flow,
            opts: { ...flow.opts, parent: { id: job.id ?? data.fusionId, queue: job.queueQualifiedName } },
          });
          log.info({ panel: data.settings.analysisModels.length }, "model called fusion: panel started");
        }
        if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
      }

      const decision = data.decision;
      if (!decision) throw new UnrecoverableError("turn job has no fusion decision");
      const judge = await readJudge(job, data.fusionId, data.settings.judgeModel);
      if (judge.cancelled || (await isCancelled(runtime.redis, data.fusionId))) return { done: true };

      progress({ status: "started" });
      const messages: ChatMessage[] = [
        ...body.messages,
        decision.assistant,
        { role: "tool", tool_call_id: decision.fusionCallId, content: JSON.stringify(judge.result) },
        ...decision.extraCallIds.map(
          (id): ChatMessage => ({ role: "tool", tool_call_id: id, content: JSON.stringify(CAPPED) }),
        ),
      ];
      const tools = [...callerTools, fusionFunctionTool];
      const hasOwnTools = callerTools.length > 0;
      let answer = await writerCall({
        messages,
        tools,
        tool_choice: hasOwnTools ? (body.tool_choice ?? "auto") : "none",
      });
      let writerUsage = addUsage(decision.usage as Usage, answer.usage);
      const again = answer.toolCalls.filter((tc) => tc.function.name === FUSION_TOOL_NAME);
      if (again.length) {
        // A second fusion in the same turn is capped; the model then answers without tools.
        const capped: ChatMessage[] = [
          ...messages,
          { role: "assistant", content: answer.content || null, tool_calls: again },
          ...again.map(
            (tc): ChatMessage => ({ role: "tool", tool_call_id: tc.id, content: JSON.stringify(CAPPED) }),
          ),
        ];
        answer = await writerCall({ messages: capped, tools, tool_choice: "none" });
        writerUsage = addUsage(writerUsage, answer.usage);
      }
      progress({ status: "finished", latency_ms: Date.now() - writerStarted });
      await finish(answer, writerUsage, judge);
      log.info({ latencyMs: Date.now() - data.createdAt }, "fusion answered");
      return { done: true };
    } catch (err) {
      if (err instanceof WaitingChildrenError) throw err;
      if (reg.signal.aborted && (await isCancelled(runtime.redis, data.fusionId).catch(() => false))) {
        log.info("fusion cancelled");
        return { done: true };
      }
      const retryable = err instanceof UpstreamError ? err.retryable : !(err instanceof UnrecoverableError);
      const attemptsLeft = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      if (retryable && attemptsLeft && !emitter.emitted) {
        log.warn({ reason: describeFailure(err) }, "turn failed before any output: retrying");
        throw err;
      }
      const status = err instanceof UpstreamError ? statusFor(err) : 500;
      const message = `the model could not answer: ${describeFailure(err)}`;
      log.error({ reason: describeFailure(err) }, "turn failed");
      progress({ status: "failed", latency_ms: Date.now() - writerStarted, error: describeFailure(err) });
      await emitter
        .end(
          { type: "chunk", data: chunks.error(status, message) },
          { type: "error", data: { status, message } },
        )
        .catch((e) => log.error({ err: (e as Error).message }, "could not write the error to the stream"));
      throw new UnrecoverableError(describeFailure(err));
    } finally {
      reg.release();
    }

    /** Writes the last entries: any remaining content, the finish chunk, usage, and the completion. */
    async function finish(
      turn: AssistantTurn,
      writerUsage: Usage,
      judge: JudgeResult | undefined,
    ): Promise<void> {
      if (turn.model) chunks.model = turn.model;
      const ownCalls = turn.toolCalls.filter((tc) => tc.function.name !== FUSION_TOOL_NAME);
      const content = fullContent(turn);
      const finishReason = ownCalls.length
        ? "tool_calls"
        : turn.finishReason === "tool_calls"
          ? "stop"
          : turn.finishReason;
      const writer = stageOf(turn.model || data.writerModel, "ok", Date.now() - writerStarted, writerUsage);
      const stages: Stage[] = judge ? [...judge.panel, judge.judge, writer] : [writer];
      const usage = {
        ...addUsage(...stages.map((s) => s.usage)),
        server_tool_use: addServerToolUse(...stages.map(stageTools)),
      };
      const annotations = judge && content ? citationsFor(content, judge.urls) : [];
      const fusion = judge
        ? { ...judge.result, breakdown: { panel: judge.panel, judge: judge.judge, writer } }
        : undefined;
      const completion = {
        id: data.fusionId,
        object: "chat.completion",
        created: Math.floor(data.createdAt / 1000),
        model: chunks.model,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content,
              ...(ownCalls.length ? { tool_calls: ownCalls } : {}),
              ...(annotations.length ? { annotations } : {}),
            },
            finish_reason: finishReason,
            logprobs: null,
          },
        ],
        usage,
        ...(fusion ? { fusion } : {}),
      };

      const events: PendingEvent[] = [];
      // A non-streaming request's answer is written whole, so its stream can still be read or resumed.
      if (!data.stream && content) events.push({ type: "chunk", data: chunks.content(content) });
      if (data.stream && !emitter.emitted && turn.content)
        events.push({ type: "chunk", data: chunks.content(turn.content) });
      if (ownCalls.length) events.push({ type: "chunk", data: chunks.toolCalls(ownCalls) });
      events.push({
        type: "chunk",
        data: chunks.finish(finishReason, annotations.length ? { annotations } : {}, {
          usage,
          ...(fusion ? { fusion } : {}),
        }),
      });
      if (data.includeUsage) events.push({ type: "chunk", data: chunks.usage(usage) });
      events.push({ type: "final", data: { completion } });
      await emitter.end(...events);
    }

    function fullContent(turn: AssistantTurn): string | null {
      const before = data.decision?.assistant.content;
      const text = `${typeof before === "string" ? before : ""}${turn.content}`;
      return text || null;
    }
  };
}

async function hasNoChildren(job: Job): Promise<boolean> {
  const c = await job.getDependenciesCount();
  return (c.processed ?? 0) + (c.unprocessed ?? 0) + (c.ignored ?? 0) + (c.failed ?? 0) === 0;
}

function questionOf(tc: ToolCall): string | undefined {
  try {
    const args = JSON.parse(tc.function.arguments || "{}") as { question?: unknown };
    return typeof args.question === "string" && args.question.trim() ? args.question : undefined;
  } catch {
    return undefined;
  }
}

async function readJudge(job: Job, fusionId: string, judgeModel: string): Promise<JudgeResult> {
  const { values, failures } = await readChildren(job);
  const parsed = judgeResultSchema.safeParse(values.get(jobIds.judge(fusionId)));
  if (parsed.success) return parsed.data;
  const reason = failures.get(jobIds.judge(fusionId)) ?? "the judge produced no result";
  return {
    result: { status: "error", error: reason, failure_reason: "unexpected_error" },
    panel: [],
    judge: stageOf(judgeModel, "failed", 0, emptyUsage(), undefined, reason),
    urls: [],
  };
}

function statusFor(err: UpstreamError): number {
  if (err.kind === "timeout") return 408;
  if (err.status === 429) return 429;
  if (err.status && err.status >= 400 && err.status < 500) return err.status;
  return 502;
}
