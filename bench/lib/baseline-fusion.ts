/**
 * One fusion of the in-process baseline: the pipeline's own stages (`runPanelist`, `runJudge`,
 * `runWriterTurn`) wired without Redis or queues. The panel runs concurrently, then the judge, then
 * the writer, whose events go straight to the client through an `EventSink`.
 */
import { newToolCallId, type ToolExecutor, type Upstream } from "@fusion/llm-client";
import {
  deliberateInProcess,
  type EventSink,
  forcedDecision,
  runWriterTurn,
  type StageLogger,
} from "@fusion/pipeline";
import {
  type ChatMessage,
  FUSION_TOOL_TYPE,
  type FusionFields,
  resolveFusionSettings,
  type TurnJobData,
  turnJobSchema,
} from "@fusion/wire";

/** The workers' defaults (PANEL_TIMEOUT_MS, JUDGE_TIMEOUT_MS, JUDGE_STRUCTURED_OUTPUT). */
const deliberation = { panelTimeoutMs: 180_000, judgeTimeoutMs: 120_000, structuredOutput: true };

export interface FusionRequest {
  model: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  messages: ChatMessage[];
  plugins?: Array<{ id: string } & FusionFields>;
  tools?: Array<{ type: string }>;
  [key: string]: unknown;
}

export interface BaselineDeps {
  upstream: Upstream;
  tools: ToolExecutor;
  /** Headers of the panel's and the judge's calls. */
  innerHeaders: Record<string, string>;
  log: StageLogger;
}

/**
 * The writer's turn of an `openrouter/fusion` request, as the gateway enqueues it: a forced fusion
 * whose decision (one fusion call with the user's question) is already taken.
 */
export function forcedTurn(request: FusionRequest, fusionId: string): TurnJobData {
  const { id: _id, ...fields } = request.plugins?.find((p) => p.id === "fusion") ?? { id: "fusion" };
  const { settings, writerModel } = resolveFusionSettings(fields, "alias", request.model);
  const {
    model: _m,
    stream: _s,
    stream_options: _o,
    plugins,
    tool_choice: _c,
    fusion: _f,
    tools,
    ...rest
  } = request;
  const otherPlugins = plugins?.filter((p) => p.id !== "fusion") ?? [];
  const ownTools = tools?.filter((t) => t.type !== FUSION_TOOL_TYPE) ?? [];
  return turnJobSchema.parse({
    fusionId,
    requestId: fusionId,
    progress: "none",
    mode: "forced",
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    writerModel,
    body: {
      ...rest,
      ...(otherPlugins.length ? { plugins: otherPlugins } : {}),
      ...(ownTools.length ? { tools: ownTools } : {}),
    },
    settings,
    createdAt: Date.now(),
    step: "await-fusion",
    decision: forcedDecision(newToolCallId(), request.messages),
  });
}

/**
 * Runs the fusion to its end: its events (the answer's chunks, then the completion or the error) go
 * to `sink`. A client that goes away aborts `signal`, which cancels every call still running.
 */
export async function runBaselineFusion(
  turn: TurnJobData,
  deps: BaselineDeps,
  sink: EventSink,
  signal: AbortSignal,
): Promise<void> {
  const isCancelled = async () => signal.aborted;
  const awaitFusion = deliberateInProcess(deliberation, {
    upstream: deps.upstream,
    tools: deps.tools,
    events: sink,
    log: deps.log,
    signal,
    isCancelled,
    headers: deps.innerHeaders,
  });
  await runWriterTurn(
    turn,
    {
      upstream: deps.upstream,
      events: sink,
      log: deps.log,
      signal,
      isCancelled,
      // One run in one process: nothing to keep for a retry or a resumption.
      saveState: async () => {},
      textEmitted: async () => false,
      appendFirstOutput: (_step, ...events) => sink.append(turn.fusionId, ...events),
      awaitFusion,
    },
    { retriesLeft: false },
  );
}
