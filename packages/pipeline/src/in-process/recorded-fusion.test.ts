import { readRecording } from "@fusion/simulator/test-support";
import { type JudgeResult, type PendingEvent, type TurnJobInput, turnJobSchema } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import {
  FakeTools,
  MemorySink,
  memoryLog,
  messagesOf,
  settingsFor,
  uniqueModel,
  useSimulatedUpstream,
} from "../test-support.ts";
import { runWriterTurn } from "../writer/run-writer-turn.ts";
import { deliberateInProcess } from "./deliberate.ts";

const simulated = useSimulatedUpstream();
const { sim } = simulated;

/** The first choice's message of a non-streamed recording. */
function recordedMessage(file: string): Record<string, unknown> {
  const completion = JSON.parse(readRecording(file).text) as {
    choices: Array<{ message: Record<string, unknown> }>;
  };
  return completion.choices[0]?.message ?? {};
}

/** A forced fusion whose panel models each replay one recording (no web tools); judge and writer simulated. */
function fusion(recordings: string[], turn: Partial<TurnJobInput> = {}) {
  const panel = recordings.map((file) => {
    const model = uniqueModel("panelist");
    sim.state.setScript(model, { replay: [file] });
    return model;
  });
  const judgeModel = uniqueModel("judge");
  const writerModel = uniqueModel("writer");
  const data = turnJobSchema.parse({
    fusionId: "gen-fusion-recordings",
    requestId: "req-1",
    mode: "forced",
    stream: false,
    includeUsage: false,
    writerModel,
    body: { messages: [{ role: "user", content: "Tell me about pydantic-ai." }] },
    settings: settingsFor(panel, judgeModel),
    createdAt: Date.now(),
    step: "await-fusion",
    decision: {
      assistant: { role: "assistant", content: null, tool_calls: [] },
      fusionCallId: "call_forced",
      usage: {},
    },
    ...turn,
  });
  const events = new MemorySink();
  const awaitFusion = deliberateInProcess(
    { panelTimeoutMs: 10_000, judgeTimeoutMs: 10_000, structuredOutput: true },
    {
      upstream: simulated.upstream,
      tools: new FakeTools(),
      events,
      log: memoryLog(),
      isCancelled: async () => false,
    },
  );
  const judgeInput = () => {
    const [judgeCall] = sim.state.listRequests({ model: judgeModel });
    return String(messagesOf(judgeCall).at(-1)?.content ?? "");
  };
  return { panel, writerModel, data, events, awaitFusion, judgeInput };
}

/** Runs a fusion's panel and judge. */
async function deliberate(recordings: string[]) {
  const f = fusion(recordings);
  const wait = await f.awaitFusion(f.data);
  if (wait.status !== "judged") throw new Error("the in-process fusion suspended");
  return { panel: f.panel, judge: wait.judge, judgeInput: f.judgeInput() };
}

function responsesOf(judge: JudgeResult): Array<{ model: string; content: string }> {
  return judge.result.status === "ok" ? judge.result.responses : [];
}

describe("the judge's input from real panelists", () => {
  it("a panelist's own url_citation annotations (OpenRouter's web plugin) reach the judge as its sources", async () => {
    const file = "openrouter/web-search-annotations.json";
    const { panel, judge, judgeInput } = await deliberate([file]);
    const citations = (
      recordedMessage(file).annotations as Array<{ url_citation: { url: string; title: string } }>
    ).map((a) => a.url_citation);
    expect(citations).toHaveLength(5);

    // The panelist's sources: every annotated page, with its title when it has one.
    expect(judge.urls).toEqual(citations.map(({ url, title }) => (title ? { url, title } : { url })));
    // The judge reads them after the panelist's answer.
    expect(judgeInput).toContain(
      `<response model="${panel[0]}">\nhttps://github.com/pydantic/pydantic-ai\n</response>\n<sources model="${panel[0]}">\n`,
    );
    for (const { url, title } of citations) {
      expect(judgeInput).toContain(title ? `${url} — ${title}` : `${url}\n`);
    }
    // The page text the provider attached to each annotation is not the panelist's answer.
    expect(judgeInput).not.toContain("AI Agent Framework, the Pydantic way\n\n...");
  });

  it("reasoning in any provider's spelling reaches neither the judge's input nor the responses", async () => {
    const files = [
      "zai/glm-4.7-thinking.json", // reasoning_content
      "openrouter/anthropic-thinking-signature.json", // reasoning and reasoning_details
      "groq/gpt-oss-reasoning.json", // reasoning
      "mistral/magistral-thinking-content-parts.json", // thinking parts of an array content
      "together/deepseek-r1.json", // a <think> block at the start of the content
    ];
    const { panel, judge, judgeInput } = await deliberate(files);

    const reasoningOf = (file: string): string[] => {
      const message = recordedMessage(file);
      const content = message.content;
      if (Array.isArray(content)) {
        return content.flatMap((part: { type: string; thinking?: Array<{ text: string }> }) =>
          part.type === "thinking" ? (part.thinking ?? []).map((t) => t.text) : [],
        );
      }
      if (typeof content === "string" && content.startsWith("<think>")) {
        return [content.slice("<think>".length, content.indexOf("</think>")).trim()];
      }
      return [message.reasoning, message.reasoning_content].filter((r): r is string => typeof r === "string");
    };
    const answerOf = (file: string): string => {
      const content = recordedMessage(file).content;
      if (Array.isArray(content)) {
        return content
          .filter((part: { type: string }) => part.type === "text")
          .map((part: { text: string }) => part.text)
          .join("")
          .trim();
      }
      const text = String(content);
      return (
        text.includes("</think>") ? text.slice(text.indexOf("</think>") + "</think>".length) : text
      ).trim();
    };

    expect(responsesOf(judge)).toEqual(
      files.map((file, i) => ({ model: panel[i], content: answerOf(file) })),
    );
    for (const [i, file] of files.entries()) {
      const reasoning = reasoningOf(file);
      expect(reasoning.length, file).toBeGreaterThan(0);
      expect(judgeInput).toContain(`<response model="${panel[i]}">\n${answerOf(file)}\n</response>`);
      for (const text of reasoning) {
        // A distinctive piece of each reasoning text: it is neither in the judge's input nor in a response.
        const piece = text.trim().slice(0, 60);
        expect(judgeInput, file).not.toContain(piece);
        expect(JSON.stringify(responsesOf(judge)), file).not.toContain(JSON.stringify(piece).slice(1, -1));
      }
    }
  });

  it("the answer's citations: only the sources it cites, each with url, title, start_index and end_index", async () => {
    const file = "openrouter/web-search-annotations.json";
    const reply =
      "Pydantic AI (https://github.com/pydantic/pydantic-ai) is an agent framework; see Pydantic AI | Pydantic Docs.";
    for (const stream of [false, true]) {
      const f = fusion([file], { stream });
      sim.state.setScript(f.writerModel, { reply });
      const ports = {
        upstream: simulated.upstream,
        events: f.events,
        log: memoryLog(),
        isCancelled: async () => false,
        saveState: async () => {},
        textEmitted: async () => false,
        appendFirstOutput: (_step: unknown, ...appended: PendingEvent[]) =>
          f.events.append(f.data.fusionId, ...appended),
        awaitFusion: f.awaitFusion,
      };
      expect(await runWriterTurn(f.data, ports, { retriesLeft: false })).toEqual({ status: "done" });
      const completion = f.events.completion() as {
        choices: Array<{ message: { content: string; annotations?: unknown[] } }>;
        fusion: { sources: Array<{ url: string }> };
      };
      const message = completion.choices[0]?.message;
      expect(message?.content).toBe(reply);
      const github = "https://github.com/pydantic/pydantic-ai";
      const docs = "Pydantic AI | Pydantic Docs";
      expect(message?.annotations).toEqual([
        {
          type: "url_citation",
          url_citation: {
            url: github,
            title: "AI Agent Framework, the Pydantic way",
            start_index: reply.indexOf(github),
            end_index: reply.indexOf(github) + github.length,
          },
        },
        {
          type: "url_citation",
          url_citation: {
            url: "https://pydantic.dev/docs/ai/overview/",
            title: docs,
            start_index: reply.indexOf(docs),
            end_index: reply.indexOf(docs) + docs.length,
          },
        },
      ]);
      // The sources the answer does not cite stay in the fusion result.
      expect(completion.fusion.sources.map((s) => s.url)).toEqual([
        github,
        "https://pydantic.dev/pydantic-ai",
        "https://github.com/pydantic/pydantic-ai/releases/tag/v2.0.0",
        "https://pydantic.dev/docs/ai/overview/",
        "https://github.com/pydantic/pydantic-ai/tree/refs/tags/v1.44.0",
      ]);
      // Streaming, the finishing chunk carries the same annotations.
      const finishing = f.events
        .chunks()
        .find((c) => (c.choices as Array<{ finish_reason: string | null }>)[0]?.finish_reason === "stop");
      expect(
        (finishing?.choices as Array<{ delta: { annotations?: unknown[] } }> | undefined)?.[0]?.delta
          .annotations,
      ).toEqual(message?.annotations);
    }
  });
});
