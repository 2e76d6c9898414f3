import { beforeEach, describe, expect, it } from "vitest";
import type { Script } from "./script.ts";
import { chat, completion, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
beforeEach(async () => {
  await sim.control.clearScripts();
  await sim.control.clearRequests();
});

const prompt = [
  "Compare these answers.",
  '<response model="a/one">Yes.</response>',
  '<response model="b/two">Probably.</response>',
  '<response model="c/three">No.</response>',
].join("\n");

const schemaFormat = {
  type: "json_schema",
  json_schema: { name: "fusion_analysis", strict: true, schema: {} },
};

async function judge(model: string, extra: object = {}): Promise<string> {
  const body = await completion(
    await chat(sim.url, { model, messages: [user(prompt)], response_format: schemaFormat, ...extra }),
  );
  return body.choices[0]?.message.content ?? "";
}

describe("judge role", () => {
  it("answers a valid analysis naming the panel", async () => {
    const analysis = JSON.parse(await judge("~openai/gpt-latest"));
    expect(analysis.consensus).toEqual(["All 3 panelists agree on the core answer."]);
    expect(analysis.contradictions[0].stances.map((s: { model: string }) => s.model)).toEqual([
      "a/one",
      "b/two",
    ]);
    expect(analysis.partial_coverage).toEqual([{ models: ["a/one"], point: expect.any(String) }]);
    expect(analysis.unique_insights.map((u: { model: string }) => u.model)).toEqual([
      "a/one",
      "b/two",
      "c/three",
    ]);
    expect(analysis.blind_spots).toEqual(["Long-term costs were not addressed."]);
    expect((await sim.control.requests())[0]?.role).toBe("judge");
  });

  it("has no contradictions with a single panelist, and accepts json_object", async () => {
    const body = await completion(
      await chat(sim.url, {
        model: "j",
        messages: [user('<response model="solo/one">x</response>')],
        response_format: { type: "json_object" },
      }),
    );
    const analysis = JSON.parse(body.choices[0]?.message.content ?? "");
    expect(analysis.contradictions).toEqual([]);
    expect(analysis.consensus).toEqual(["All 1 panelists agree on the core answer."]);
  });

  it("follows judgeOutput", async () => {
    const outputs: Record<string, (content: string) => void> = {
      fenced: (c) => {
        const fenced = /```json\n([\s\S]*?)\n```/.exec(c);
        expect(c.startsWith("```")).toBe(false);
        expect(JSON.parse(fenced?.[1] ?? "").consensus).toHaveLength(1);
      },
      prose: (c) => {
        expect(c).toMatch(/^Here is my analysis: \{.*\} Let me know if you need more\.$/);
      },
      invalid: (c) => expect(() => JSON.parse(c)).toThrow(),
      "schema-mismatch": (c) => expect(Object.keys(JSON.parse(c))).toEqual(["summary"]),
      empty: (c) => expect(c).toBe(""),
    };
    for (const [output, check] of Object.entries(outputs)) {
      const model = `sim/judge-${output}`;
      await sim.control.script(model, { judgeOutput: output as Script["judgeOutput"] });
      check(await judge(model));
    }
  });

  it("invalid-then-valid breaks only the first judge answer of the model", async () => {
    await sim.control.script("sim/retry-judge", { judgeOutput: "invalid-then-valid" });
    expect(() => JSON.parse("x")).toThrow();
    const first = await judge("sim/retry-judge");
    expect(() => JSON.parse(first)).toThrow();
    expect(JSON.parse(await judge("sim/retry-judge")).consensus).toHaveLength(1);
    expect(JSON.parse(await judge("sim/retry-judge")).consensus).toHaveLength(1);
  });

  it("uses web tools first when they are offered", async () => {
    const first = await completion(
      await chat(sim.url, {
        model: "j",
        messages: [user(prompt)],
        response_format: schemaFormat,
        tools: [tool("web_search")],
      }),
    );
    expect(first.choices[0]?.message.tool_calls?.[0]?.function.name).toBe("web_search");
    const noTools = await judge("j", { tools: [tool("web_search")], tool_choice: "none" });
    expect(JSON.parse(noTools).consensus).toHaveLength(1);
  });

  it("searches for the request its prompt quotes, not for the whole prompt", async () => {
    const quoting = `<request>\nWhich is cheaper?\n</request>\n\nThe panel's answers:\n\n${prompt}`;
    const first = await completion(
      await chat(sim.url, {
        model: "j",
        messages: [user(quoting)],
        response_format: schemaFormat,
        tools: [tool("web_search")],
      }),
    );
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ query: "Which is cheaper?" });
  });
});
