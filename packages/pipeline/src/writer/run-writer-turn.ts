import {
  type AssistantTurn,
  addUsage,
  fusionFunctionTool,
  type JudgeResult,
  type PendingEvent,
  type TurnJobData,
  type Usage,
} from "@fusion/wire";
import { progressReporter } from "../progress-reporter.ts";
import { AnswerEmitter } from "./answer-emitter.ts";
import { ChunkBuilder } from "./chunks.ts";
import { finishEvents } from "./completion.ts";
import { decisionOf, fusionCallsOf, withCappedCalls, withFusionResult } from "./decision.ts";
import { ReasoningRelay } from "./reasoning-relay.ts";
import { failTurn, TurnStoppedError } from "./writer-failure.ts";
import type { WriterOptions, WriterOutcome, WriterPorts } from "./writer-ports.ts";

const DONE: WriterOutcome = { status: "done" };

/**
 * The calling model's turn. Step `decide`: the model gets the fusion tool beside the caller's own
 * tools and answers, calls the caller's tools, or calls fusion. When it calls fusion, the decision is
 * saved and the turn waits for the fusion (`awaitFusion`, which may suspend the run). Step
 * `await-fusion` (where forced fusions start): the model writes the final answer from the tool
 * result; a second fusion call is capped and the model then answers without tools.
 */
export async function runWriterTurn(
  initial: TurnJobData,
  ports: WriterPorts,
  options: WriterOptions,
): Promise<WriterOutcome> {
  let turn = initial;
  const { log, upstream } = ports;
  const { body, fusionId } = turn;
  const chunks = new ChunkBuilder(fusionId, Math.floor(turn.createdAt / 1000), turn.writerModel);
  // A step's first text reaches the client with the record that it did, in one step: a retry of the
  // step (its worker died) must then end the stream with an error rather than send the text again or
  // splice two answers.
  const emitter = new AnswerEmitter(ports.events, fusionId, chunks, (...events) =>
    ports.appendFirstOutput(turn.step, ...events),
  );
  const call = ports.signal ? { signal: ports.signal } : {};
  const callerTools = body.tools ?? [];
  const tools = [...callerTools, fusionFunctionTool];
  const writerStarted = Date.now();
  const progress = progressReporter(
    ports.events,
    fusionId,
    turn.progress,
    { stage: "writer", model: turn.writerModel },
    log,
  );

  /** One call of the writer model; when streaming, its reasoning and text go to the client as they arrive. */
  const writerCall = async (extra: Record<string, unknown>): Promise<AssistantTurn> => {
    const request = { ...body, ...extra, model: turn.writerModel };
    if (!turn.stream) return (await upstream.complete(request, call)).turn;
    const reasoning = new ReasoningRelay(emitter);
    const answer = await upstream.streamTurn(request, {
      ...call,
      onReasoning: (text, chunk) => reasoning.delta(text, chunk),
      onText: (text, chunk) => emitter.text(text, chunk.model),
    });
    reasoning.end(answer);
    return answer;
  };

  /** Writes the last entries: any remaining content, `before` (the writer's last progress), the finish chunk, usage, and the completion. */
  const finish = async (
    answer: AssistantTurn,
    writerUsage: Usage,
    judge: JudgeResult | undefined,
    before: PendingEvent[] = [],
  ) => {
    const events = finishEvents({
      turn,
      answer,
      writerUsage,
      judge,
      writerLatencyMs: Date.now() - writerStarted,
      chunks,
      textStreamed: emitter.textEmitted,
    });
    await emitter.end(...before, ...events);
  };

  try {
    if (await ports.isCancelled()) return DONE;
    if (turn.stream && (await ports.textEmitted(turn.step))) {
      throw new TurnStoppedError("the worker writing this answer stopped after part of it was sent");
    }

    if (turn.step === "decide") {
      const answer = await writerCall({ tools });
      const decision = decisionOf(answer, body.messages);
      if (!decision) {
        await finish(answer, answer.usage, undefined);
        return DONE;
      }
      turn = { ...turn, step: "await-fusion", decision };
      await ports.saveState(turn);
    }

    // The model called fusion (or it is forced): its result, or a suspension until it is ready.
    const wait = await ports.awaitFusion(turn);
    if (wait.status === "suspended") return wait;
    const { decision } = turn;
    if (!decision) throw new TurnStoppedError("turn job has no fusion decision");
    const { judge } = wait;
    if (judge.cancelled || (await ports.isCancelled())) return DONE;

    progress({ status: "started" });
    const messages = withFusionResult(body.messages, decision, judge.result);
    let answer = await writerCall({
      messages,
      tools,
      tool_choice: callerTools.length > 0 ? (body.tool_choice ?? "auto") : "none",
    });
    let writerUsage = addUsage(decision.usage, answer.usage);
    const again = fusionCallsOf(answer);
    if (again.length) {
      // A second fusion in the same turn is capped; the model then answers without tools.
      answer = await writerCall({
        messages: withCappedCalls(messages, answer, again),
        tools,
        tool_choice: "none",
      });
      writerUsage = addUsage(writerUsage, answer.usage);
    }
    // In the same append as the stream's last entries (nothing is appended after them).
    const finished = await progress.last({
      status: "finished",
      latency_ms: Date.now() - writerStarted,
      usage: writerUsage,
    });
    await finish(answer, writerUsage, judge, finished);
    log.info({ latencyMs: Date.now() - turn.createdAt }, "fusion answered");
    return DONE;
  } catch (err) {
    if (ports.signal?.aborted && (await ports.isCancelled().catch(() => false))) {
      log.info({}, "fusion cancelled");
      return DONE;
    }
    return failTurn({ err, retriesLeft: options.retriesLeft, emitter, chunks, progress, log, writerStarted });
  }
}
