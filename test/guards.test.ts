import { describe, expect, it } from "vitest";
import { bodyOf, uniqueModel, useStack } from "./support/fixture.ts";

const e2e = useStack();

describe("recursion guard, tool bounds and web tools", () => {
  it("a request with fusion depth ≥ 1 is never offered the tool and never fuses", async () => {
    const caller = uniqueModel("inner");
    const res = await e2e.post(
      {
        model: caller,
        messages: [{ role: "user", content: "research this" }],
        tools: [{ type: "openrouter:fusion" }],
      },
      { headers: { "x-openrouter-fusion-depth": "1" } },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { fusion?: unknown };
    expect(body.fusion).toBeUndefined();
    const seen = await e2e.control.requests({ model: caller });
    expect(seen).toHaveLength(1);
    expect((bodyOf(seen[0]) as { tools?: unknown }).tools).toBeUndefined();
    expect(seen[0]?.headers["x-openrouter-fusion-depth"]).toBe("1");
  });

  it("the alias at depth ≥ 1 falls back to its writer model", async () => {
    const judge = uniqueModel("writer");
    const res = await e2e.post(
      {
        model: "openrouter/fusion",
        messages: [{ role: "user", content: "hi" }],
        plugins: [{ id: "fusion", model: judge }],
      },
      { headers: { "x-openrouter-fusion-depth": "2" } },
    );
    const body = (await res.json()) as { model: string; choices: Array<{ message: { content: string } }> };
    expect(body.model).toBe(judge);
    expect(body.choices[0]?.message.content).toContain(`Hello from ${judge}`);
  });

  it("inner calls carry x-openrouter-fusion-depth: 1 and are never offered fusion", async () => {
    const panel = [uniqueModel("p")];
    const judge = uniqueModel("judge");
    await e2e.client.chat.completions.create({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "x" }],
      // @ts-expect-error OpenRouter extension
      plugins: [{ id: "fusion", analysis_models: panel, model: judge }],
    });
    const inner = [
      ...(await e2e.control.requests({ model: panel[0] })),
      ...(await e2e.control.requests({ model: judge, role: "judge" })),
    ];
    expect(inner.length).toBeGreaterThan(0);
    for (const r of inner) {
      expect(r.headers["x-openrouter-fusion-depth"]).toBe("1");
      const names = ((r.body as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map(
        (t) => t.function.name,
      );
      expect(names).not.toContain("openrouter_fusion");
    }
    // The writer's own calls are the outer call: no depth header.
    const writer = await e2e.control.requests({ model: judge, role: "writer" });
    expect(writer[0]?.headers["x-openrouter-fusion-depth"]).toBeUndefined();
  });

  it("max_tool_calls bounds a panelist that would call tools forever", async () => {
    const endless = uniqueModel("endless");
    await e2e.control.script(endless, { toolSteps: "endless" });
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "dig deep" }],
      plugins: [{ id: "fusion", analysis_models: [endless], model: uniqueModel("judge"), max_tool_calls: 3 }],
    });
    const body = (await res.json()) as { fusion: { status: string; responses: unknown[] } };
    expect(body.fusion.status).toBe("ok");
    const calls = await e2e.control.requests({ model: endless });
    expect(calls).toHaveLength(4);
    const last = calls.at(-1)?.body as { tool_choice?: string };
    expect(last.tool_choice).toBe("none");
  });

  it("web_search and web_fetch results reach the panel model", async () => {
    const researcher = uniqueModel("researcher");
    const judge = uniqueModel("judge");
    await e2e.control.script(researcher, { toolSteps: 2 });
    await e2e.control.script(judge, { toolSteps: 0 });
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "carbon tax evidence" }],
      plugins: [{ id: "fusion", analysis_models: [researcher], model: judge }],
    });
    const body = (await res.json()) as {
      fusion: { responses: Array<{ content: string }> };
      usage: { server_tool_use: { web_search_requests: number; tool_calls_executed: number } };
    };
    const answer = body.fusion.responses[0]?.content ?? "";
    expect(answer).toContain("Sources: http://");
    expect(answer).toContain("/pages/result-1-carbon-tax-evidence");
    // The fetched page's readable text (title, article) reached the model, without its script noise.
    expect(answer).toMatch(/Fetched: "About result-1-carbon-tax-evidence/);
    expect(answer).not.toContain("SCRIPT-NOISE");
    expect(body.usage.server_tool_use.web_search_requests).toBe(1);
    expect(body.usage.server_tool_use.tool_calls_executed).toBe(2);
  });
});
