/**
 * The writer's reasoning, from real provider responses (replayed byte for byte): it reaches the client
 * as OpenRouter returns it, never in the content, and the writer's decision keeps it for the call that
 * writes the answer.
 */
import type { Upstream } from "@fusion/llm-client";
import { startScriptedUpstream } from "@fusion/llm-client/test-support";
import { readRecording } from "@fusion/simulator/test-support";
import {
  type ChatMessage,
  emptyUsage,
  FUSION_TOOL_NAME,
  type JudgeResult,
  type TurnJobData,
  type TurnJobInput,
  turnJobSchema,
} from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { stageOf } from "../stages.ts";
import { MemorySink, memoryLog, settingsFor, uniqueModel, useSimulatedUpstream } from "../test-support.ts";
import { runWriterTurn } from "./run-writer-turn.ts";
import type { FusionWait, WriterPorts } from "./writer-ports.ts";

const simulated = useSimulatedUpstream();
const { sim } = simulated;

type Delta = {
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  reasoning_details?: unknown[];
};
type Message = Delta & { role: string; tool_calls?: Array<{ id: string }> };

/** The first choice's message of a non-streamed recording. */
function recordedMessage(file: string): Message {
  return (JSON.parse(readRecording(file).text) as { choices: Array<{ message: Message }> }).choices[0]
    ?.message as Message;
}

/** The first choice's delta of each chunk of a streamed recording. */
function recordedDeltas(file: string, text = readRecording(file).text): Delta[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.startsWith("data:") && line.slice(5).trim() !== "[DONE]")
    .map((line) => JSON.parse(line.slice(5)) as { choices?: Array<{ delta?: Delta }> })
    .map((chunk) => chunk.choices?.[0]?.delta ?? {});
}

const join = (deltas: Delta[], key: "content" | "reasoning" | "reasoning_content") =>
  deltas.map((d) => d[key] ?? "").join("");

/** `reasoning_details` pieces merged by `index` as an OpenRouter client does: text and signature concatenated. */
function mergedDetails(pieces: unknown[]): unknown[] {
  const out: Array<Record<string, unknown>> = [];
  for (const piece of pieces as Array<Record<string, unknown>>) {
    const same = out.find((d) => d.index === piece.index && d.type === piece.type);
    if (!same) {
      out.push({ ...piece });
      continue;
    }
    for (const [key, value] of Object.entries(piece)) {
      if (
        typeof value === "string" &&
        typeof same[key] === "string" &&
        ["text", "signature", "data"].includes(key)
      )
        same[key] = `${same[key]}${value}`;
      else if (same[key] === undefined) same[key] = value;
    }
  }
  return out;
}

const question = "What is 2 + 2?";
let seq = 0;

/** A writer's turn on `client`, with ports that keep what it saves and writes. */
function writerTurn(model: string, turn: Partial<TurnJobInput>, client: Upstream = simulated.upstream) {
  const judgeModel = uniqueModel("judge");
  const data = turnJobSchema.parse({
    fusionId: `gen-fusion-reasoning-${++seq}`,
    requestId: "req-1",
    mode: "offered",
    stream: false,
    includeUsage: false,
    writerModel: model,
    body: { messages: [{ role: "user", content: question }] },
    settings: settingsFor([uniqueModel("panel")], judgeModel),
    createdAt: Date.now(),
    ...turn,
  });
  const judge: JudgeResult = {
    result: { status: "ok", responses: [{ model: "test/p", content: "Four." }] },
    panel: [stageOf("test/p", "ok", 1, emptyUsage())],
    judge: stageOf(judgeModel, "failed", 1, emptyUsage(), undefined, "no analysis"),
    urls: [],
  };
  const events = new MemorySink();
  const saved: TurnJobData[] = [];
  const judged: FusionWait = { status: "judged", judge };
  const ports = (wait: FusionWait): WriterPorts => ({
    upstream: client,
    events,
    log: memoryLog(),
    isCancelled: async () => false,
    saveState: async (t) => {
      saved.push(t);
    },
    textEmitted: async () => false,
    appendFirstOutput: (_step, ...appended) => events.append(data.fusionId, ...appended),
    awaitFusion: async () => wait,
  });
  /** Runs the turn (from `from`) to its end; the completion it wrote. */
  const run = async (from: TurnJobData = data) => {
    expect(await runWriterTurn(from, ports(judged), { retriesLeft: false })).toEqual({ status: "done" });
    return events.completion() as { choices: Array<{ message: Message }> };
  };
  /** Runs the turn's deciding step, which calls fusion: it suspends; the decision it saved. */
  const decide = async () => {
    const outcome = await runWriterTurn(data, ports({ status: "suspended" }), { retriesLeft: false });
    expect(outcome).toEqual({ status: "suspended" });
    return saved[0] as TurnJobData;
  };
  return { data, events, saved, run, decide };
}

/** A writer replaying recordings, one per call. */
function replaying(files: string[], turn: Partial<TurnJobInput> = {}) {
  const model = uniqueModel("writer");
  sim.state.setScript(model, { replay: files });
  return writerTurn(model, turn);
}

/** The deltas of the chunks the client got. */
function sentDeltas(events: MemorySink): Delta[] {
  return events.chunks().map((c) => (c.choices as Array<{ delta: Delta }>)[0]?.delta ?? {});
}

describe("the writer's reasoning, non-streaming", () => {
  it("is message.reasoning with the provider's reasoning_details (OpenRouter → Anthropic thinking)", async () => {
    const file = "openrouter/anthropic-thinking-signature.json";
    const recorded = recordedMessage(file);
    const { message } = (await replaying([file]).run()).choices[0] as { message: Message };
    expect(message.content).toBe(recorded.content);
    expect(message.reasoning).toBe(recorded.reasoning);
    expect(message.reasoning_details).toEqual(recorded.reasoning_details);
    expect(message.content).not.toContain("Let me think");
  });

  it("reasoning_content (z.ai) becomes message.reasoning", async () => {
    const file = "zai/glm-4.7-thinking.json";
    const recorded = recordedMessage(file);
    const w = replaying([file]);
    const { message } = (await w.run()).choices[0] as { message: Message };
    expect(message).toMatchObject({ content: recorded.content, reasoning: recorded.reasoning_content });
    expect(message).not.toHaveProperty("reasoning_content");
    expect(message).not.toHaveProperty("reasoning_details");
    // The stream of a non-streaming fusion (read or resumed later) holds the reasoning, then the text.
    expect(sentDeltas(w.events).slice(0, 2)).toEqual([
      { role: "assistant", content: "", reasoning: recorded.reasoning_content },
      { role: "assistant", content: recorded.content },
    ]);
  });
});

describe("the writer's reasoning, streaming", () => {
  it("streams delta.reasoning as it arrives, each with its reasoning_details, before the text (OpenRouter → Anthropic)", async () => {
    const file = "openrouter/anthropic-thinking-signature-stream.sse";
    const recorded = recordedDeltas(file);
    const w = replaying([file], { stream: true });
    const { message } = (await w.run()).choices[0] as { message: Message };
    const sent = sentDeltas(w.events);
    const firstText = sent.findIndex((d) => d.content);
    const reasoningDeltas = sent.filter((d) => d.reasoning || d.reasoning_details);

    expect(join(sent, "content")).toBe(join(recorded, "content"));
    expect(join(sent, "reasoning")).toBe(join(recorded, "reasoning"));
    expect(join(recorded, "reasoning")).toContain("2+2 equals 4.");
    expect(sent.findIndex((d) => d.reasoning)).toBeLessThan(firstText);
    // Where a delta has both forms, they hold the same text: a client showing either shows it once.
    for (const d of reasoningDeltas.filter((r) => r.reasoning)) {
      expect(mergedDetails(d.reasoning_details ?? [])).toMatchObject([{ text: d.reasoning }]);
    }
    // The client's blocks, merged by index, are the provider's: the thinking text and its signature.
    const blocks = mergedDetails(sent.flatMap((d) => d.reasoning_details ?? []));
    const provider = mergedDetails(recorded.flatMap((d) => d.reasoning_details ?? []));
    expect(blocks).toEqual(provider);
    expect(provider).toEqual([expect.objectContaining({ signature: expect.stringMatching(/^Et0BCkgI/) })]);
    // The completion at the end of the stream carries the same.
    expect(message.reasoning).toBe(join(recorded, "reasoning"));
    expect(message.reasoning_details).toEqual(provider);
    expect(message.content).toBe(join(recorded, "content"));
  });

  it("reasoning_content (DeepSeek) streams as delta.reasoning, never as content", async () => {
    const file = "deepseek/reasoner-stream.sse";
    const recorded = recordedDeltas(file);
    const w = replaying([file], { stream: true });
    const { message } = (await w.run()).choices[0] as { message: Message };
    const sent = sentDeltas(w.events);
    expect(join(recorded, "reasoning_content").length).toBeGreaterThan(100);
    expect(join(sent, "reasoning")).toBe(join(recorded, "reasoning_content"));
    expect(join(sent, "content")).toBe(join(recorded, "content"));
    expect(message).toMatchObject({
      content: join(recorded, "content"),
      reasoning: join(recorded, "reasoning_content"),
    });
  });

  it("encrypted reasoning (OpenAI o3 through OpenRouter) reaches the client as reasoning_details on a delta", async () => {
    const file = "openrouter/openai-o3-encrypted-reasoning-stream.sse";
    const recorded = recordedDeltas(file).flatMap((d) => d.reasoning_details ?? []);
    expect(recorded).toEqual([expect.objectContaining({ type: "reasoning.encrypted" })]);
    const w = replaying([file], { stream: true });
    const { message } = (await w.run()).choices[0] as { message: Message };
    expect(sentDeltas(w.events).flatMap((d) => d.reasoning_details ?? [])).toEqual(recorded);
    expect(message.reasoning_details).toEqual(recorded);
    expect(message).not.toHaveProperty("reasoning");
  });
});

/** A server that answers the writer's first call with `decide` (as recorded but for the tool's name), then with `answer`. */
function recordedDecider(decide: { file: string; text: string }, answer: string) {
  const recording = readRecording(answer);
  return startScriptedUpstream((req, res) => {
    const [body, sse] =
      req.n === 1
        ? [decide.text, decide.file.endsWith(".sse")]
        : [recording.bytes, recording.format === "sse"];
    res.writeHead(200, { "content-type": sse ? "text/event-stream" : "application/json" });
    res.end(body);
  });
}

describe("the writer's decision keeps its reasoning", () => {
  it.each([
    ["deepseek/reasoner-tool-call.json", '"name": "load_capability"', "zai/glm-4.7-thinking.json", false],
    ["deepseek/reasoner-tool-call-stream.sse", '"name":"weather"', "deepseek/reasoner-stream.sse", true],
  ])(
    "%s: the call that writes the answer sends the decision's reasoning_content back unchanged",
    async (file, name, answer, stream) => {
      // DeepSeek's reasoner calling a tool: here the fusion tool (the recording with its tool renamed).
      const text = readRecording(file).text.replace(name, name.replace(/"[^"]+"$/, `"${FUSION_TOOL_NAME}"`));
      expect(text).not.toBe(readRecording(file).text);
      const scripted = await recordedDecider({ file, text }, answer);
      try {
        const w = writerTurn("deepseek-reasoner", { stream }, scripted.client);
        const saved = await w.decide();
        const decided = stream
          ? join(recordedDeltas(file, text), "reasoning_content")
          : (recordedMessage(file).reasoning_content as string);
        expect(decided.length).toBeGreaterThan(50);
        expect(saved.decision?.assistant).toMatchObject({ role: "assistant", reasoning_content: decided });

        // Resumed once the fusion is done: the answer is written from the conversation with that turn.
        const completion = await w.run(saved);
        const [, write] = scripted.server.requests;
        const messages = (write?.json as { messages?: Message[] } | undefined)?.messages ?? [];
        const assistant = messages.find((m) => m.role === "assistant");
        expect(assistant?.reasoning_content).toBe(decided);
        expect(assistant?.tool_calls?.[0]?.id).toBe(saved.decision?.fusionCallId);
        expect(messages.at(-1)).toMatchObject({ role: "tool", tool_call_id: saved.decision?.fusionCallId });
        // The client's message: the text beside the fusion call, then the answer; the reasoning of both calls.
        const [before, after] = stream
          ? [recordedDeltas(file, text), recordedDeltas(answer)].map((d) => ({
              content: join(d, "content"),
              reasoning: join(d, "reasoning_content"),
            }))
          : [recordedMessage(file), recordedMessage(answer)].map((m) => ({
              content: m.content ?? "",
              reasoning: m.reasoning_content ?? "",
            }));
        expect(completion.choices[0]?.message).toMatchObject({
          content: `${before?.content}${after?.content}`,
          reasoning: `${before?.reasoning}${after?.reasoning}`,
        });
      } finally {
        await scripted.close();
      }
    },
  );
});

describe("the caller's own history", () => {
  it("goes to the writer with the reasoning fields of its assistant turns unchanged (OpenRouter → Anthropic, DeepSeek)", async () => {
    const anthropic = recordedMessage("openrouter/anthropic-thinking-signature.json");
    const deepseek = recordedMessage("deepseek/reasoner-tool-call.json");
    expect(anthropic.reasoning_details?.length).toBeGreaterThan(0);
    expect(deepseek.reasoning_content).toBeTruthy();
    expect(deepseek.tool_calls?.length).toBeGreaterThan(0);
    const history: ChatMessage[] = [
      { role: "user", content: "Earlier question" },
      {
        role: "assistant",
        content: anthropic.content,
        reasoning: anthropic.reasoning,
        reasoning_details: anthropic.reasoning_details,
      },
      { role: "user", content: "And a tool?" },
      {
        role: "assistant",
        content: deepseek.content ?? null,
        reasoning_content: deepseek.reasoning_content,
        tool_calls: deepseek.tool_calls as ChatMessage["tool_calls"],
      },
      ...(deepseek.tool_calls ?? []).map(
        (c): ChatMessage => ({ role: "tool", tool_call_id: c.id, content: "42" }),
      ),
      { role: "user", content: question },
    ];
    const w = replaying(["zai/glm-4.7-thinking.json"], { body: { messages: history } });
    const model = w.data.writerModel;
    await w.run();
    const sent = sim.state.requests.filter((r) => (r.body as { model?: string }).model === model);
    expect(sent).toHaveLength(1);
    const messages = (sent[0]?.body as { messages?: unknown[] } | undefined)?.messages ?? [];
    expect(messages.slice(0, history.length)).toEqual(history);
  });
});
