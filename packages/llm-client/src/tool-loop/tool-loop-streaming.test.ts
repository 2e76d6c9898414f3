import { setTimeout as sleep } from "node:timers/promises";
import type { Script } from "@fusion/simulator";
import { useSimulator } from "@fusion/simulator/test-support";
import { finishChunk, sendEvent, startSse, textChunk, usageChunk } from "@fusion/testing";
import type { ChatMessage, WebToolName } from "@fusion/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamClient } from "../upstream/index.ts";
import { useScriptedUpstream } from "../upstream/scripted-upstream.ts";
import type { ToolExecutor, ToolResult } from "./tool-executor.ts";
import { runToolLoop, type ToolCallOutcome } from "./tool-loop.ts";

/**
 * The tool loop with `onTextDelta`: every call streams and its text is told as it arrives, with the
 * step it belongs to; tool results are told with their latency and failure. Without it the loop does
 * not stream (the other tool-loop tests).
 */

/** Web tools whose `web_fetch` fails; a search answers after a short wait. */
class Tools implements ToolExecutor {
  definitions(names: ReadonlyArray<WebToolName>): unknown[] {
    return names.map((name) => ({
      type: "function",
      function: { name, description: name, parameters: { type: "object", properties: {} } },
    }));
  }

  async execute(name: string): Promise<ToolResult> {
    await sleep(5);
    if (name === "web_fetch") {
      return { name, ok: false, content: JSON.stringify({ error: "fetch refused: 403" }), urls: [] };
    }
    return { name, ok: true, content: "results", urls: [{ url: "https://example.org/a" }] };
  }
}

const sim = useSimulator();
let client: UpstreamClient;
beforeAll(() => {
  client = new UpstreamClient({ baseUrl: `${sim.url}/v1`, maxRetries: 0 });
});
afterAll(() => client.close());

let seq = 0;
function model(script: Script): string {
  const slug = `test/streaming-${++seq}`;
  sim.state.setScript(slug, script);
  return slug;
}

const question: ChatMessage[] = [{ role: "user", content: "How do Redis Streams work?" }];

describe("runToolLoop with onTextDelta", () => {
  it("streams every call and tells each step's text; the last step's text is the answer", async () => {
    const slug = model({ toolSteps: 2, tokenDelayMs: 1 });
    const deltas: Array<[string, number]> = [];
    const results: Array<[string, ToolCallOutcome]> = [];
    const out = await runToolLoop({
      client,
      tools: new Tools(),
      model: slug,
      messages: question,
      toolNames: ["web_search", "web_fetch"],
      maxSteps: 4,
      onTextDelta: (text, step) => deltas.push([text, step]),
      onToolResult: (call, result) => results.push([call.name, result]),
    });

    const requests = sim.state.listRequests({ model: slug });
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.stream)).toBe(true);
    // Text comes in many pieces, every piece of the answer from the last step (2).
    const answer = deltas.filter(([, step]) => step === 2);
    expect(answer.length).toBeGreaterThan(1);
    expect(answer.map(([text]) => text).join("")).toBe(out.turn.content);
    expect(deltas.every(([, step]) => step >= 0 && step <= 2)).toBe(true);
    expect(out.turn.content).toMatch(/^Answer from /);
    expect(out.usage.total_tokens).toBeGreaterThan(0);

    // Step 0 searched, step 1 fetched (and the fetch failed, with its reason).
    expect(results.map(([name, r]) => [name, r.ok, r.error])).toEqual([
      ["web_search", true, undefined],
      ["web_fetch", false, "fetch refused: 403"],
    ]);
    for (const [, r] of results) expect(r.latencyMs).toBeGreaterThanOrEqual(4);
  });

  it("does not stream without onTextDelta", async () => {
    const slug = model({ toolSteps: 1 });
    await runToolLoop({
      client,
      tools: new Tools(),
      model: slug,
      messages: question,
      toolNames: ["web_search"],
      maxSteps: 4,
    });
    expect(sim.state.listRequests({ model: slug }).map((r) => r.stream)).toEqual([false, false]);
  });

  it("tells a failed tool call that threw, then fails the loop", async () => {
    const slug = model({ toolSteps: 1 });
    const tools = new Tools();
    tools.execute = async () => {
      throw new Error("executor crashed");
    };
    const results: ToolCallOutcome[] = [];
    await expect(
      runToolLoop({
        client,
        tools,
        model: slug,
        messages: question,
        toolNames: ["web_search"],
        maxSteps: 4,
        onToolResult: (_call, result) => results.push(result),
      }),
    ).rejects.toThrow("executor crashed");
    expect(results).toEqual([{ ok: false, latencyMs: expect.any(Number), error: "executor crashed" }]);
  });
});

describe("runToolLoop: a call restarted mid-stream", () => {
  const scripted = useScriptedUpstream({ maxRetries: 1 });

  it("tells the step's reset, then the new attempt's text", async () => {
    const { server, client: retrying } = await scripted.start((req, res) => {
      startSse(res);
      sendEvent(res, textChunk(req.n === 1 ? "Broken ans" : "Whole "));
      if (req.n === 1) {
        setTimeout(() => res.destroy(), 20);
        return;
      }
      sendEvent(res, textChunk("answer."));
      sendEvent(res, finishChunk());
      sendEvent(res, usageChunk(3, 2));
      sendEvent(res, "[DONE]");
      res.end();
    });
    const told: string[] = [];
    const out = await runToolLoop({
      client: retrying,
      tools: new Tools(),
      model: "test/model",
      messages: question,
      toolNames: [],
      maxSteps: 4,
      onTextDelta: (text, step) => told.push(`${step}:${text}`),
      onTextReset: (step) => told.push(`${step}:<reset>`),
    });
    expect(told).toEqual(["0:Broken ans", "0:<reset>", "0:Whole ", "0:answer."]);
    expect(out.turn.content).toBe("Whole answer.");
    expect(server.requests).toHaveLength(2);
  });

  it("without onTextReset the broken call fails the loop", async () => {
    const { server, client: retrying } = await scripted.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("Broken"));
      setTimeout(() => res.destroy(), 20);
    });
    await expect(
      runToolLoop({
        client: retrying,
        tools: new Tools(),
        model: "test/model",
        messages: question,
        toolNames: [],
        maxSteps: 4,
        onTextDelta: () => {},
      }),
    ).rejects.toMatchObject({ kind: "network" });
    expect(server.requests).toHaveLength(1);
  });
});
