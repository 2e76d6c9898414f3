import type { AssistantTurn, ChatMessage, Usage, WebToolName } from "@fusion/wire";
import { addUsage, emptyServerToolUse, type ServerToolUse } from "@fusion/wire";
import { assistantMessage, type CallOptions, type Upstream } from "../upstream/index.ts";
import type { ToolExecutor } from "./tool-executor.ts";
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
  /** Called after every upstream call with that call's usage, so a caller can count what a failed loop spent. */
  onUsage?: (usage: Usage) => void;
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
 */
export async function runToolLoop(input: ToolLoopInput): Promise<ToolLoopOutput> {
  const { client, tools, model, toolNames, maxSteps, call } = input;
  const messages: ChatMessage[] = [...input.messages];
  const definitions = toolNames.length ? tools.definitions(toolNames) : [];
  const usages: Usage[] = [];
  const serverToolUse = emptyServerToolUse();
  const urls = new Map<string, { url: string; title?: string }>();
  const perTurn = Math.max(0, tools.maxCallsPerTurn ?? DEFAULT_MAX_TOOL_CALLS_PER_TURN);
  let steps = 0;

  for (;;) {
    const mustAnswer = steps >= maxSteps || definitions.length === 0;
    const body: Record<string, unknown> = { ...input.body, model, messages };
    if (definitions.length) {
      body.tools = definitions;
      body.tool_choice = mustAnswer ? "none" : "auto";
    }
    const { turn } = await client.complete(body, call);
    usages.push(turn.usage);
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
        input.onToolCall?.({ name: tc.function.name, arguments: tc.function.arguments });
        const result = await traceToolCall(tc.function.name, tc.function.arguments, () =>
          tools.execute(tc.function.name, tc.function.arguments, call?.signal),
        );
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
