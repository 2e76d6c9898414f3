import type { AssistantTurn, ChatMessage, Usage, WebToolName } from "@fusion/wire";
import { addUsage, emptyServerToolUse, type ServerToolUse } from "@fusion/wire";
import { describeFailure } from "../upstream/describe-failure.ts";
import { assistantMessage, type CallOptions, type Upstream } from "../upstream/index.ts";
import { toolFields, upstreamWebSearches } from "./server-tools.ts";
import { type ToolExecutor, type ToolResult, toolError } from "./tool-executor.ts";
import { traceToolCall } from "./tool-tracing.ts";
import { DEFAULT_MAX_TOOL_CALLS_PER_TURN, overTurnCapResult } from "./turn-call-cap.ts";

export interface ToolLoopInput {
  client: Upstream;
  tools: ToolExecutor;
  model: string;
  messages: ChatMessage[];
  toolNames: ReadonlyArray<WebToolName>;
  /** Tool-calling steps allowed before the model must answer in text. */
  maxSteps: number;
  /** Extra body fields (temperature, response_format, ...). */
  body?: Record<string, unknown>;
  call?: CallOptions;
  onToolCall?: (call: { name: string; arguments: string }) => void;
  /** Called when a tool call that ran has finished: how long it took, and why it failed when it did. */
  onToolResult?: (call: { name: string; arguments: string }, result: ToolCallOutcome) => void;
  /** Called after every upstream call with that call's usage, so a caller can count what a failed loop spent. */
  onUsage?: (usage: Usage) => void;
  /**
   * Given: every call streams, and each piece of the answer's text is told with its step (0 for the
   * first call, one more after each tool-calling turn). Absent: the calls are not streamed.
   */
  onTextDelta?: (text: string, step: number) => void;
  /**
   * Given with `onTextDelta`: a call that fails (retryably) after its text began is started over, and
   * this says that the step's text told so far is void. Absent: such a call fails the loop.
   */
  onTextReset?: (step: number) => void;
}

/** How a tool call that ran went: its latency, and a short reason when it failed. */
export interface ToolCallOutcome {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface ToolLoopOutput {
  turn: AssistantTurn;
  /** The conversation including every tool turn, for a follow-up call such as a repair. */
  messages: ChatMessage[];
  usage: Usage;
  serverToolUse: ServerToolUse;
  urls: Array<{ url: string; title?: string }>;
  steps: number;
}

/**
 * A model's tool loop: call, run the tool calls of that turn in parallel, feed the results back, up to
 * `maxSteps` tool steps; then one last call that must answer in text. Of one turn's calls, the first
 * `tools.maxCallsPerTurn` run; the others are answered with a tool error and never reach the tools.
 * Server tools (`tools.serverTools`) go in `tools` beside the functions (see `toolFields`); the
 * searches the upstream reports having run count in `serverToolUse.web_search_requests`.
 */
export async function runToolLoop(input: ToolLoopInput): Promise<ToolLoopOutput> {
  const { tools, model, toolNames, maxSteps, call } = input;
  const messages: ChatMessage[] = [...input.messages];
  const definitions = toolNames.length ? tools.definitions(toolNames) : [];
  const serverTools = toolNames.length ? (tools.serverTools?.(toolNames) ?? []) : [];
  const usages: Usage[] = [];
  const serverToolUse = emptyServerToolUse();
  const urls = new Map<string, { url: string; title?: string }>();
  const perTurn = Math.max(0, tools.maxCallsPerTurn ?? DEFAULT_MAX_TOOL_CALLS_PER_TURN);
  let steps = 0;

  for (;;) {
    const mustAnswer = steps >= maxSteps || definitions.length === 0;
    const body: Record<string, unknown> = {
      ...input.body,
      model,
      messages,
      ...toolFields(definitions, serverTools, mustAnswer),
    };
    const turn = await callModel(input, body, steps);
    usages.push(turn.usage);
    serverToolUse.web_search_requests += upstreamWebSearches(turn.usage);
    input.onUsage?.(turn.usage);
    if (mustAnswer || turn.toolCalls.length === 0) {
      return { turn, messages, usage: addUsage(...usages), serverToolUse, urls: [...urls.values()], steps };
    }
    steps++;
    serverToolUse.tool_calls_requested += turn.toolCalls.length;
    messages.push(assistantMessage(turn));
    const results = await Promise.all(
      turn.toolCalls.map(async (tc, index) => {
        if (index >= perTurn) return { tc, result: overTurnCapResult(tc.function.name, perTurn) };
        const asked = { name: tc.function.name, arguments: tc.function.arguments };
        input.onToolCall?.(asked);
        const started = performance.now();
        const latency = () => Math.round(performance.now() - started);
        let result: ToolResult;
        try {
          result = await traceToolCall(asked.name, asked.arguments, () =>
            tools.execute(asked.name, asked.arguments, call?.signal),
          );
        } catch (err) {
          input.onToolResult?.(asked, { ok: false, latencyMs: latency(), error: describeFailure(err) });
          throw err;
        }
        input.onToolResult?.(asked, {
          ok: result.ok,
          latencyMs: latency(),
          ...(result.ok ? {} : { error: toolError(result) }),
        });
        return { tc, result };
      }),
    );
    for (const { tc, result } of results) {
      if (result.ok) {
        serverToolUse.tool_calls_executed++;
        if (result.name === "web_search") serverToolUse.web_search_requests++;
        for (const u of result.urls) if (!urls.has(u.url)) urls.set(u.url, u);
      }
      messages.push({ role: "tool", tool_call_id: tc.id, content: result.content });
    }
  }
}

/** One call of the loop: streamed when the caller takes the text as it comes, else one completion. */
async function callModel(input: ToolLoopInput, body: Record<string, unknown>, step: number) {
  const { client, call, onTextDelta, onTextReset } = input;
  if (!onTextDelta) return (await client.complete(body, call)).turn;
  return client.streamTurn(body, {
    ...call,
    onText: (text) => onTextDelta(text, step),
    ...(onTextReset ? { onRestart: () => onTextReset(step) } : {}),
  });
}
