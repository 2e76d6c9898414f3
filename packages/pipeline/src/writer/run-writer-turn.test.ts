import { type CallOptions, UpstreamClient, UpstreamError } from "@fusion/llm-client";
import type { Script } from "@fusion/simulator";
import {
  type AssistantTurn,
  emptyUsage,
  FUSION_TOOL_NAME,
  type JudgeResult,
  type TurnJobData,
  type TurnJobInput,
  type TurnStep,
  turnJobSchema,
  type Usage,
} from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { deliberateInProcess } from "../in-process/deliberate.ts";
import { stageOf } from "../stages.ts";
import {
  bodyOf,
  FakeTools,
  MemorySink,
  memoryLog,
  messagesOf,
  settingsFor,
  uniqueModel,
  usageOf,
  useSimulatedUpstream,
} from "../test-support.ts";
import { CAPPED } from "./decision.ts";
import { runWriterTurn } from "./run-writer-turn.ts";
import type { FusionWait, WriterPorts } from "./writer-ports.ts";

/** The real client; the first call that writes the answer after a fusion is answered with a second fusion call. */
class CallsFusionAgain extends UpstreamClient {
  readonly turn: AssistantTurn = {
    model: "",
    content: "Let me ask the panel again.",
    toolCalls: [
      {
        id: "call_again",
        type: "function",
        function: { name: FUSION_TOOL_NAME, arguments: '{"question":"again?"}' },
      },
    ],
    finishReason: "tool_calls",
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  };
  #answered = false;

  override async complete(body: Record<string, unknown>, options?: CallOptions) {
    const messages = body.messages as Array<{ role: string }>;
    if (!this.#answered && messages.some((m) => m.role === "tool")) {
      this.#answered = true;
      return { completion: { choices: [] }, turn: { ...this.turn, model: String(body.model) } };
    }
    return super.complete(body, options);
  }
}

const simulated = useSimulatedUpstream();
const { sim } = simulated;

const question = "Compare the pros and cons of nuclear power.";
let fusionSeq = 0;

/** A judge's result the writer can use without running a panel. */
function cannedJudge(judgeModel: string): JudgeResult {
  return {
    result: { status: "ok", responses: [{ model: "test/p", content: "Nuclear power is costly to build." }] },
    panel: [stageOf("test/p", "ok", 10, { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })],
    judge: stageOf(judgeModel, "failed", 5, emptyUsage(), undefined, "no analysis"),
    urls: [],
  };
}

type Await = (turn: TurnJobData) => Promise<FusionWait>;

function writer(
  script: Script,
  turn: Partial<TurnJobInput> = {},
  client: UpstreamClient = simulated.upstream,
) {
  const model = uniqueModel("writer");
  const panel = [uniqueModel("panel"), uniqueModel("panel")];
  const judgeModel = uniqueModel("judge");
  sim.state.setScript(model, script);
  const data = turnJobSchema.parse({
    fusionId: `gen-fusion-writer-${++fusionSeq}`,
    requestId: "req-1",
    mode: "offered",
    stream: false,
    includeUsage: false,
    writerModel: model,
    body: { messages: [{ role: "user", content: question }] },
    settings: settingsFor(panel, judgeModel),
    createdAt: Date.now(),
    ...turn,
  });
  const events = new MemorySink();
  const saved: TurnJobData[] = [];
  const emitted = new Set<TurnStep>();
  const marks: TurnStep[] = [];
  const waits: TurnJobData[] = [];
  let cancelled = false;
  const ports = (awaitFusion: Await): WriterPorts => ({
    upstream: client,
    events,
    log: memoryLog(),
    isCancelled: async () => cancelled,
    saveState: async (t) => {
      saved.push(t);
    },
    textEmitted: async (step) => emitted.has(step),
    appendFirstOutput: async (step, ...appended) => {
      // The record and the output land together: the events carry output, and nothing was written before them.
      expect(appended.length).toBeGreaterThan(0);
      expect(events.ofType("chunk")).toEqual([]);
      marks.push(step);
      emitted.add(step);
      return events.append(data.fusionId, ...appended);
    },
    awaitFusion: (t) => {
      waits.push(t);
      return awaitFusion(t);
    },
  });
  const inProcess: Await = deliberateInProcess(
    { panelTimeoutMs: 10_000, judgeTimeoutMs: 10_000, structuredOutput: true },
    {
      upstream: client,
      tools: new FakeTools(),
      events,
      log: memoryLog(),
      isCancelled: async () => cancelled,
    },
  );
  const canned: Await = async () => ({ status: "judged", judge: cannedJudge(judgeModel) });
  return {
    model,
    panel,
    judgeModel,
    data,
    events,
    saved,
    emitted,
    marks,
    waits,
    ports,
    inProcess,
    canned,
    cancel: () => {
      cancelled = true;
    },
    requests: () => sim.state.listRequests({ model }),
    allRequests: () => [...panel, judgeModel, model].flatMap((m) => sim.state.listRequests({ model: m })),
  };
}

/** A forced fusion's turn, as the gateway makes it: the decision already taken, with no usage. */
function forced(stream: boolean): Partial<TurnJobInput> {
  return {
    mode: "forced",
    stream,
    step: "await-fusion",
    decision: {
      assistant: {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_forced", type: "function", function: { name: FUSION_TOOL_NAME, arguments: "{}" } },
        ],
      },
      fusionCallId: "call_forced",
      question,
      usage: {},
    },
  };
}

const tokens = (u: Usage) => [u.prompt_tokens, u.completion_tokens, u.total_tokens];

describe("runWriterTurn: decide", () => {
  it("a writer that does not call fusion answers directly", async () => {
    const w = writer({ fusion: "decline", reply: "Nuclear power is cheap to run." });
    const outcome = await runWriterTurn(w.data, w.ports(w.inProcess), { retriesLeft: true });
    expect(outcome).toEqual({ status: "done" });
    expect(w.waits).toHaveLength(0);
    expect(w.saved).toHaveLength(0);
    const completion = w.events.completion();
    expect(completion).toMatchObject({
      id: w.data.fusionId,
      object: "chat.completion",
      choices: [
        { message: { role: "assistant", content: "Nuclear power is cheap to run." }, finish_reason: "stop" },
      ],
    });
    expect(completion).not.toHaveProperty("fusion");
    expect(w.events.text()).toBe("Nuclear power is cheap to run.");
    // The model was offered the fusion tool.
    expect(w.requests()[0]?.role).toBe("decider");
  });

  it("a writer that calls the caller's own tool ends its turn with the tool call", async () => {
    const weather = { type: "function", function: { name: "get_weather", parameters: { type: "object" } } };
    const w = writer(
      { callTool: { name: "get_weather", arguments: { city: "Oslo" } } },
      { body: { messages: [{ role: "user", content: question }], tools: [weather] } },
    );
    expect(await runWriterTurn(w.data, w.ports(w.inProcess), { retriesLeft: true })).toEqual({
      status: "done",
    });
    expect(w.events.completion()).toMatchObject({
      choices: [
        {
          finish_reason: "tool_calls",
          message: { tool_calls: [{ function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
        },
      ],
    });
    expect(bodyOf(w.requests()[0]).tools).toHaveLength(2);
  });

  it("calls fusion: saves the decision and suspends, then resumed writes the answer from the fusion", async () => {
    const w = writer({ fusion: "call" });
    const suspended = await runWriterTurn(
      w.data,
      w.ports(async () => ({ status: "suspended" })),
      {
        retriesLeft: true,
      },
    );
    expect(suspended).toEqual({ status: "suspended" });
    expect(w.events.events).toEqual([]);
    const [saved] = w.saved;
    const [decide] = w.requests();
    expect(saved).toMatchObject({
      step: "await-fusion",
      decision: {
        fusionCallId: `call_sim_${decide?.seq}_0`,
        question,
        extraCallIds: [],
        assistant: { role: "assistant", content: null },
      },
    });
    expect(tokens(saved?.decision?.usage as Usage)).toEqual(tokens(usageOf([decide as never])));
    expect(w.waits[0]).toBe(saved);

    // BullMQ runs the job again once its children are done: the state it was left in.
    const outcome = await runWriterTurn(saved as TurnJobData, w.ports(w.inProcess), { retriesLeft: true });
    expect(outcome).toEqual({ status: "done" });
    const completion = w.events.completion() as {
      choices: Array<{ message: { content: string } }>;
      usage: Usage;
      fusion: {
        status: string;
        analysis?: unknown;
        breakdown: { panel: unknown[]; writer: { model: string } };
      };
    };
    expect(completion.choices[0]?.message.content).toContain("Consensus: All 2 panelists agree");
    expect(completion.fusion).toMatchObject({ status: "ok", analysis: { consensus: expect.any(Array) } });
    expect(completion.fusion.breakdown.panel).toHaveLength(2);
    expect(completion.fusion.breakdown.writer.model).toBe(w.model);
    // Every call of the fusion is in its usage: the panel, the judge, and both of the writer's calls.
    expect(tokens(completion.usage)).toEqual(tokens(usageOf(w.allRequests())));
    const write = w.requests()[1];
    expect(write?.role).toBe("writer");
    expect(bodyOf(write).tool_choice).toBe("none");
    expect(messagesOf(write).at(-1)).toMatchObject({
      role: "tool",
      tool_call_id: saved?.decision?.fusionCallId,
    });
  });
});

describe("runWriterTurn: write", () => {
  it("streams the answer of a forced fusion, marking the step before its first text", async () => {
    const w = writer({ tokenDelayMs: 1 }, { ...forced(true), includeUsage: true });
    const outcome = await runWriterTurn(w.data, w.ports(w.inProcess), { retriesLeft: true });
    expect(outcome).toEqual({ status: "done" });
    expect(w.marks).toEqual(["await-fusion"]);
    const text = w.events.text();
    expect(text).toMatch(/^Final answer from test\/writer-\d+\. Consensus: All 2 panelists agree/);
    expect(w.events.chunks().length).toBeGreaterThan(3);
    const types = w.events.events.map((e) => e.type);
    expect(types.at(-1)).toBe("final");
    const [finish, usage] = w.events.chunks().slice(-2);
    expect(finish).toMatchObject({ choices: [{ finish_reason: "stop" }], fusion: { status: "ok" } });
    expect(usage).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    expect(w.events.completion()).toMatchObject({ choices: [{ message: { content: text } }] });
  });

  it("caps a second fusion call in the same turn; the model then answers without tools", async () => {
    const client = new CallsFusionAgain({ baseUrl: `${sim.url}/v1`, maxRetries: 0 });
    try {
      const w = writer({}, forced(false), client);
      expect(await runWriterTurn(w.data, w.ports(w.canned), { retriesLeft: true })).toEqual({
        status: "done",
      });
      const [write] = w.requests();
      expect(bodyOf(write).tool_choice).toBe("none");
      expect(messagesOf(write).slice(-2)).toEqual([
        { role: "assistant", content: "Let me ask the panel again.", tool_calls: client.turn.toolCalls },
        { role: "tool", tool_call_id: "call_again", content: JSON.stringify(CAPPED) },
      ]);
      const completion = w.events.completion() as {
        choices: Array<{ message: { content: string }; finish_reason: string }>;
        fusion: { breakdown: { writer: { usage: Usage } } };
      };
      // The model read the capped result last.
      expect(completion.choices[0]?.message.content).toBe(
        `Final answer from ${w.model}. The panel could not be consulted (fusion_invocation_capped).`,
      );
      expect(completion.choices[0]?.finish_reason).toBe("stop");
      expect(tokens(completion.fusion.breakdown.writer.usage)).toEqual(
        tokens({
          prompt_tokens: 7 + (write?.usage?.prompt_tokens ?? 0),
          completion_tokens: 3 + (write?.usage?.completion_tokens ?? 0),
          total_tokens: 10 + (write?.usage?.total_tokens ?? 0),
        }),
      );
    } finally {
      await client.close();
    }
  });

  it("answers the extra fusion calls of a decision as capped", async () => {
    const w = writer({}, forced(false));
    const data: TurnJobData = {
      ...w.data,
      decision: {
        ...(w.data.decision as NonNullable<TurnJobData["decision"]>),
        extraCallIds: ["call_extra"],
      },
    };
    expect(await runWriterTurn(data, w.ports(w.canned), { retriesLeft: true })).toEqual({ status: "done" });
    expect(messagesOf(w.requests()[0]).at(-1)).toEqual({
      role: "tool",
      tool_call_id: "call_extra",
      content: JSON.stringify(CAPPED),
    });
  });

  it("a cancelled fusion ends without writing anything", async () => {
    const w = writer({}, forced(true));
    w.cancel();
    expect(await runWriterTurn(w.data, w.ports(w.canned), { retriesLeft: true })).toEqual({ status: "done" });
    expect(w.events.events).toEqual([]);
    expect(w.requests()).toHaveLength(0);
  });
});

describe("runWriterTurn: failures", () => {
  it("a retried step that already sent text ends the stream with an error, never repeating it", async () => {
    const w = writer({}, forced(true));
    w.emitted.add("await-fusion");
    const outcome = await runWriterTurn(w.data, w.ports(w.canned), { retriesLeft: true });
    const reason = "the worker writing this answer stopped after part of it was sent";
    expect(outcome).toEqual({ status: "failed", reason });
    expect(w.waits).toHaveLength(0);
    expect(w.requests()).toHaveLength(0);
    const message = `the model could not answer: ${reason}`;
    expect(w.events.chunks()).toEqual([
      expect.objectContaining({
        error: { code: "server_error", status: 500, message },
        choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      }),
    ]);
    expect(w.events.ofType("error").map((e) => e.data)).toEqual([{ status: 500, message }]);
  });

  it("a failure before any text is retried while attempts are left", async () => {
    const w = writer({ alwaysFail: { status: 503, message: "overloaded" } }, forced(true));
    const outcome = await runWriterTurn(w.data, w.ports(w.canned), { retriesLeft: true });
    expect(outcome).toMatchObject({ status: "retry" });
    expect(outcome.status === "retry" && outcome.error).toBeInstanceOf(UpstreamError);
    expect(w.events.events).toEqual([]);
  });

  it("a failure with no attempt left ends the stream with an error", async () => {
    const w = writer({ alwaysFail: { status: 503, message: "overloaded" } }, forced(true));
    const outcome = await runWriterTurn(w.data, w.ports(w.canned), { retriesLeft: false });
    expect(outcome).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/^\[503\] upstream returned 503/),
    });
    expect(w.events.ofType("error").map((e) => e.data)).toEqual([
      { status: 502, message: expect.stringMatching(/^the model could not answer: \[503\]/) },
    ]);
  });

  it("a failure that cannot succeed again is not retried", async () => {
    const w = writer({ alwaysFail: { status: 400, message: "bad request" } }, forced(false));
    const outcome = await runWriterTurn(w.data, w.ports(w.canned), { retriesLeft: true });
    expect(outcome).toMatchObject({ status: "failed" });
    expect(w.events.ofType("error").map((e) => e.data)).toEqual([
      { status: 400, message: expect.stringMatching(/^the model could not answer: \[400\]/) },
    ]);
  });

  it("a failure after text reached the client is not retried: the stream ends with an error chunk", async () => {
    const w = writer({ corrupt: "truncated", onlyRoles: ["writer"] }, forced(true));
    const outcome = await runWriterTurn(w.data, w.ports(w.canned), { retriesLeft: true });
    expect(outcome).toMatchObject({ status: "failed" });
    expect(w.marks).toEqual(["await-fusion"]);
    expect(w.events.text().length).toBeGreaterThan(0);
    expect(w.events.events.map((e) => e.type).slice(-2)).toEqual(["chunk", "error"]);
    expect(w.events.chunks().at(-1)).toMatchObject({ choices: [{ finish_reason: "error" }] });
  });
});
