import { ProviderRouter } from "@fusion/llm-client";
import type { Script } from "@fusion/simulator";
import { useSimulator } from "@fusion/simulator/test-support";
import type { Analysis, PanelResult } from "@fusion/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bodyOf,
  FakeTools,
  MemorySink,
  memoryLog,
  messagesOf,
  settingsFor,
  uniqueModel,
} from "../test-support.ts";
import { type JudgeInput, runJudge } from "./run-judge.ts";

// The judge asks for structured output as its model's provider supports it: a JSON Schema, JSON mode,
// or the prompt alone. Three providers on the simulator, told apart by their dialect.
const sim = useSimulator();
let router: ProviderRouter;

beforeAll(() => {
  const baseUrl = `${sim.url}/v1`;
  router = new ProviderRouter({
    config: {
      providers: {
        schema: { name: "schema", baseUrl, headers: {}, dialect: "openrouter" },
        "json-mode": { name: "json-mode", baseUrl, headers: {}, dialect: "deepseek" },
        // On 127.0.0.1: a generic OpenAI-compatible server, without structured output.
        "prompt-only": { name: "prompt-only", baseUrl, headers: {} },
      },
      routes: [
        { match: "schema/*", provider: "schema" },
        { match: "json-mode/*", provider: "json-mode" },
        { match: "prompt-only/*", provider: "prompt-only" },
      ],
    },
    defaults: { maxRetries: 0 },
  });
});
afterAll(() => router?.close());

const analysis: Analysis = {
  consensus: ["Both panelists find nuclear power cheap to run and dear to build."],
  contradictions: [],
  partial_coverage: [],
  unique_insights: [],
  blind_spots: ["Decommissioning costs."],
};

const answer = (model: string): PanelResult => ({
  model,
  status: "ok",
  content: `Answer from ${model}.`,
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  serverToolUse: { web_search_requests: 0, tool_calls_requested: 0, tool_calls_executed: 0 },
  urls: [],
  latencyMs: 20,
});

async function judgeOn(
  provider: string,
  script: Script | undefined,
  options: { structuredOutput?: boolean; onRepair?: (model: string) => void } = {},
) {
  const model = `${provider}/${uniqueModel("judge")}`;
  if (script) sim.state.setScript(model, script);
  const panel = [uniqueModel("a"), uniqueModel("b")];
  const input: JudgeInput = {
    fusionId: "gen-fusion-structured",
    messages: [{ role: "user", content: "Is nuclear power cheap?" }],
    settings: settingsFor(panel, model),
    progress: "none",
    results: panel.map(answer),
    structuredOutput: options.structuredOutput ?? true,
    timeoutMs: 10_000,
  };
  let repairs = 0;
  const judged = await runJudge(input, {
    upstream: router,
    tools: new FakeTools(),
    events: new MemorySink(),
    log: memoryLog(),
    isCancelled: async () => false,
    onRepair: () => {
      repairs++;
      options.onRepair?.(model);
    },
  });
  return { judged, repairs, requests: sim.state.listRequests({ model }) };
}

describe("the judge's structured output, by its provider", () => {
  it("asks a provider with JSON Schemas for the analysis schema", async () => {
    const { judged, requests } = await judgeOn("schema", undefined);
    expect(judged.result).toMatchObject({ status: "ok", analysis: { consensus: expect.any(Array) } });
    expect(bodyOf(requests[0]).response_format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "fusion_analysis", strict: true },
    });
  });

  it("asks a provider with JSON mode only for json_object", async () => {
    const { judged, requests } = await judgeOn("json-mode", undefined);
    expect(judged.result).toMatchObject({ status: "ok", analysis: { consensus: expect.any(Array) } });
    expect(requests).toHaveLength(1);
    expect(bodyOf(requests[0]).response_format).toEqual({ type: "json_object" });
  });

  it("asks a provider without structured output by the prompt alone, and validates what it answers", async () => {
    const { judged, requests, repairs } = await judgeOn("prompt-only", { reply: JSON.stringify(analysis) });
    expect(judged.result).toMatchObject({ status: "ok", analysis });
    expect(judged.judge.status).toBe("ok");
    expect(repairs).toBe(0);
    expect(requests).toHaveLength(1);
    expect(bodyOf(requests[0])).not.toHaveProperty("response_format");
    expect(messagesOf(requests[0])[0]?.content).toContain("Reply with only a JSON object");
  });

  it("repairs once a real JSON-mode reply that is not the analysis, by the prompt alone both times", async () => {
    // Groq's recorded answer in JSON mode: valid JSON, but another schema's.
    const { judged, requests, repairs } = await judgeOn(
      "prompt-only",
      { replay: ["groq/gpt-oss-reasoning.json"] },
      {
        onRepair: (model) =>
          sim.state.setScript(model, { reply: `\`\`\`json\n${JSON.stringify(analysis)}\n\`\`\`` }),
      },
    );
    expect(repairs).toBe(1);
    expect(requests).toHaveLength(2);
    expect(requests[0]?.replayed).toBe("groq/gpt-oss-reasoning.json");
    for (const request of requests) expect(bodyOf(request)).not.toHaveProperty("response_format");
    expect(messagesOf(requests[1]).at(-1)?.content).toMatch(/^Your reply could not be used: /);
    expect(judged.result).toMatchObject({ status: "ok", analysis });
  });

  it("leaves the answers without analysis when the prompt-only reply stays unusable", async () => {
    const { judged, requests, repairs } = await judgeOn("prompt-only", {
      replay: ["groq/gpt-oss-reasoning.json"],
    });
    expect(repairs).toBe(1);
    expect(requests).toHaveLength(2);
    expect(judged.result.status).toBe("ok");
    expect(judged.result).not.toHaveProperty("analysis");
    expect(judged.judge.status).toBe("failed");
  });

  it("asks by the prompt alone where structured output is turned off (JUDGE_STRUCTURED_OUTPUT=false)", async () => {
    const { judged, requests } = await judgeOn(
      "schema",
      { reply: JSON.stringify(analysis) },
      { structuredOutput: false },
    );
    expect(judged.result).toMatchObject({ status: "ok", analysis });
    expect(bodyOf(requests[0])).not.toHaveProperty("response_format");
  });
});
