import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

const e2e = useStack();

type Fusion = {
  status: string;
  analysis?: { consensus: string[] };
  responses?: Array<{ model: string; content: string }>;
  failed_models?: string[];
  failure_reason?: string;
};

describe("the fusion pipeline end to end", () => {
  it("alias: forces fusion, the judge model writes the answer (non-streaming)", async () => {
    const judge = uniqueModel("judge");
    const panel = [uniqueModel("p1"), uniqueModel("p2")];
    const res = await e2e.client.chat.completions.create({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "Which is better for sparse features, ridge or lasso?" }],
      // @ts-expect-error plugins are an OpenRouter extension
      plugins: [{ id: "fusion", analysis_models: panel, model: judge }],
    });
    expect(res.model).toBe(judge);
    const content = res.choices[0]?.message.content ?? "";
    expect(content).toContain(`Final answer from ${judge}`);
    expect(content).toContain("Consensus: All 2 panelists agree");
    const fusion = (res as unknown as { fusion: Fusion }).fusion;
    expect(fusion.status).toBe("ok");
    expect(fusion.responses?.map((r) => r.model)).toEqual(panel);
    expect(fusion.analysis?.consensus.length).toBeGreaterThan(0);
    // usage adds up every inner call: each panelist's calls, the judge's, and the writer's.
    const calls = [
      ...(await e2e.control.requests({ model: panel[0] })),
      ...(await e2e.control.requests({ model: panel[1] })),
      ...(await e2e.control.requests({ model: judge })),
    ];
    expect(calls.length).toBeGreaterThanOrEqual(6);
    const sum = (key: "prompt_tokens" | "completion_tokens" | "total_tokens") =>
      calls.reduce((n, r) => n + (r.usage?.[key] ?? 0), 0);
    expect(res.usage?.prompt_tokens).toBe(sum("prompt_tokens"));
    expect(res.usage?.completion_tokens).toBe(sum("completion_tokens"));
    expect(res.usage?.total_tokens).toBe(sum("total_tokens"));
    const cost = calls.reduce((n, r) => n + (r.usage?.cost ?? 0), 0);
    expect((res.usage as unknown as { cost: number }).cost).toBeCloseTo(cost, 9);
  });

  it("alias: streams the final answer as chat.completion.chunk frames", async () => {
    const judge = uniqueModel("judge");
    // A writer that streams at a human pace: each token must reach the client as it comes.
    await e2e.control.script(judge, { tokenDelayMs: 15, onlyRoles: ["writer"] });
    const stream = await e2e.client.chat.completions.create({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "Compare A and B" }],
      stream: true,
      stream_options: { include_usage: true },
      // @ts-expect-error plugins are an OpenRouter extension
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: judge }],
    });
    let text = "";
    let chunks = 0;
    let usage: unknown;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(8);
    expect(text).toContain(`Final answer from ${judge}`);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });
  });
});
