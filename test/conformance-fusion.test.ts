import { describe, expect, it } from "vitest";
import {
  answerOf,
  expectUsage,
  forcedFusion,
  messagesOf,
  usageServed,
  userTextOf,
} from "./support/conformance.ts";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { REASONING_FIELDS, recordedTurn, sumUsage } from "./support/recorded.ts";

// A whole fusion of replayed reasoning models (real recordings, packages/simulator/recordings): every
// panelist, the judge and the writer. What comes back is exact, and every assistant turn the service
// sent back upstream carried the provider's reasoning fields unchanged.
const e2e = useStack();

const PANEL = {
  "deepseek-reasoner": ["deepseek/reasoner-tool-call.json", "zai/glm-4.7-thinking.json"],
  "claude-via-openrouter": [
    "openrouter/anthropic-tool-call-no-arguments.json",
    "openrouter/anthropic-thinking-signature.json",
  ],
  "grok-3-mini": ["xai/grok-3-mini-tool-call.json", "cerebras/gpt-oss-120b-reasoning.json"],
  "gemini-via-openrouter": ["openrouter/gemini-reasoning-details-signature-only.json"],
};
/** The judge answers JSON that is no analysis (with `reasoning`), is asked for a repair, and answers prose. */
const JUDGE = ["groq/gpt-oss-reasoning.json", "openrouter/glm-reasoning.json"];

/**
 * Every request a model sent after its first: the assistant turns in it are, in order, the recordings
 * it was answered with, each with its reasoning fields, text and tool calls exactly as recorded, and
 * each tool call is answered by a tool message.
 */
async function expectReasoningSentBack(model: string, served: string[]) {
  const requests = await e2e.control.requests({ model });
  expect(requests.map((r) => r.replayed)).toEqual(served);
  for (const [k, request] of requests.entries()) {
    const messages = messagesOf(request);
    const assistants = messages.filter((m) => m.role === "assistant");
    expect(assistants).toHaveLength(k);
    for (const [j, sent] of assistants.entries()) {
      const recorded = await recordedTurn(served[j] as string);
      expect(Object.keys(recorded.reasoningFields).length + recorded.toolCalls.length).toBeGreaterThan(0);
      for (const field of REASONING_FIELDS) {
        if (recorded.reasoningFields[field] !== undefined)
          expect(sent[field]).toEqual(recorded.reasoningFields[field]);
      }
      expect(sent.content || "").toBe(recorded.content);
      const calls = (sent.tool_calls ?? []) as Array<{
        id: string;
        function: { name: string; arguments: string };
      }>;
      expect(
        calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
      ).toEqual(recorded.toolCalls);
      for (const call of calls) {
        expect(messages.filter((m) => m.role === "tool" && m.tool_call_id === call.id)).toHaveLength(1);
      }
    }
  }
}

describe("conformance: a fusion of replayed reasoning models", () => {
  it.each([
    { stream: true, writerReplay: "deepseek/reasoner-stream.sse" },
    { stream: false, writerReplay: "openrouter/anthropic-thinking-signature.json" },
  ])(
    "stream $stream: the right text, exact usage and cost, no reasoning in content, reasoning sent back unchanged",
    async ({ stream, writerReplay }) => {
      const panel = Object.entries(PANEL).map(([name, replay]) => ({ model: uniqueModel(name), replay }));
      const judge = uniqueModel("gpt-oss-judge");
      const writer = uniqueModel("writer");
      for (const { model, replay } of panel) await e2e.control.script(model, { replay });
      await e2e.control.script(judge, { replay: JUDGE });
      await e2e.control.script(writer, { replay: [writerReplay] });

      const res = await e2e.post(forcedFusion({ writer, judge, panel: panel.map((p) => p.model), stream }));
      expect(res.status).toBe(200);
      const answer = await answerOf(res, stream);

      // The client: the writer's text and reasoning, apart.
      const written = await recordedTurn(writerReplay);
      expect(answer.error).toBeUndefined();
      expect(answer.content).toBe(written.content);
      expect(answer.reasoning).toBe(written.reasoning);
      expect(answer.finishReason).toBe("stop");

      // The fusion: every panelist's text, none of their reasoning; the judge found no analysis.
      const texts = await Promise.all(
        panel.map(async (p) => (await recordedTurn(p.replay.at(-1) as string)).content.trim()),
      );
      expect(answer.fusion?.status).toBe("ok");
      expect(answer.fusion?.responses).toEqual(panel.map((p, i) => ({ model: p.model, content: texts[i] })));
      expect(answer.fusion?.analysis).toBeUndefined();
      expect(answer.fusion?.breakdown).toMatchObject({ judge: { model: judge, status: "failed" } });
      const [judged] = await e2e.control.requests({ model: judge });
      const writerInput = JSON.stringify(messagesOf((await e2e.control.requests({ model: writer }))[0]));
      const everyFile = [...panel.flatMap((p) => p.replay), ...JUDGE, writerReplay];
      for (const file of everyFile) {
        const { reasoning } = await recordedTurn(file);
        if (!reasoning) continue;
        const sample = reasoning.trim().slice(0, 60);
        expect(userTextOf(judged)).not.toContain(sample);
        expect(writerInput).not.toContain(sample);
        expect(JSON.stringify(answer.fusion)).not.toContain(sample);
        expect(answer.content).not.toContain(sample);
      }

      // Usage and cost: exactly the sum of what every recording reported.
      const models = [...panel.map((p) => p.model), judge, writer];
      const expected = sumUsage(await Promise.all(everyFile.map(async (f) => (await recordedTurn(f)).usage)));
      expect(await usageServed(e2e.control, models)).toEqual(expected);
      expect(expected.cost).toBeGreaterThan(0);
      expectUsage(answer.usage, expected);

      // What went back upstream: every tool-loop turn and the judge's repair carried the reasoning fields.
      for (const { model, replay } of panel) await expectReasoningSentBack(model, replay);
      await expectReasoningSentBack(judge, JUDGE);
      expect((await e2e.control.requests({ model: writer })).map((r) => r.replayed)).toEqual([writerReplay]);
    },
  );
});
