import { type ChatRequest, chatRequestSchema, QUALITY_PANEL } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { classify, type Plan } from "./classify.ts";

const messages = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Which database for an event log?" },
];

const weatherTool = {
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: {} } },
};

function request(fields: Record<string, unknown>): ChatRequest {
  return chatRequestSchema.parse({ model: "openai/gpt-5", messages, ...fields });
}

function fusionPlan(plan: Plan): Extract<Plan, { kind: "fusion" }> {
  if (plan.kind !== "fusion") throw new Error(`expected a fusion plan, got ${plan.kind}`);
  return plan;
}

function proxyBody(plan: Plan): Record<string, unknown> {
  if (plan.kind !== "proxy" || !plan.body) throw new Error("expected a proxy plan with a rewritten body");
  return plan.body;
}

describe("classify", () => {
  it("passes a plain request through unchanged", () => {
    expect(classify(request({ stream: true, tools: [weatherTool] }), 0)).toEqual({
      kind: "proxy",
      body: undefined,
    });
  });

  it("forces a fusion for the alias, with the judge as writer", () => {
    const plan = fusionPlan(classify(request({ model: "openrouter/fusion" }), 0));
    expect(plan).toMatchObject({ entry: "alias", mode: "forced", writerModel: QUALITY_PANEL[0] });
    expect(plan.settings.judgeModel).toBe(plan.writerModel);
    expect(plan.question).toBe("Which database for an event log?");
    expect(plan.messages).toEqual(messages);
  });

  it("offers a fusion for the plugin, judged by the calling model", () => {
    const plan = fusionPlan(
      classify(request({ plugins: [{ id: "fusion", analysis_models: ["a/one", "b/two"] }] }), 0),
    );
    expect(plan).toMatchObject({ entry: "plugin", mode: "offered", writerModel: "openai/gpt-5" });
    expect(plan.settings.judgeModel).toBe("openai/gpt-5");
    expect(plan.settings.analysisModels).toEqual(["a/one", "b/two"]);
    expect(plan.turnBody.plugins).toBeUndefined();
  });

  it("proxies a disabled plugin without it, keeping the other plugins", () => {
    const plan = classify(
      request({
        plugins: [
          { id: "web", max_results: 2 },
          { id: "fusion", enabled: false },
        ],
      }),
      0,
    );
    const body = proxyBody(plan);
    expect(body.plugins).toEqual([{ id: "web", max_results: 2 }]);
    expect(body.model).toBe("openai/gpt-5");
    expect(body.messages).toEqual(messages);
  });

  it("drops the plugins field when the disabled fusion plugin was the only one", () => {
    const body = proxyBody(classify(request({ plugins: [{ id: "fusion", enabled: false }] }), 0));
    expect(body).not.toHaveProperty("plugins");
  });

  it("offers a fusion for the server tool and applies its parameters", () => {
    const plan = fusionPlan(
      classify(
        request({
          tools: [
            {
              type: "openrouter:fusion",
              parameters: { preset: "general-budget", max_tool_calls: 3, tools: ["openrouter:web_search"] },
            },
          ],
        }),
        0,
      ),
    );
    expect(plan).toMatchObject({ entry: "tool", mode: "offered", writerModel: "openai/gpt-5" });
    expect(plan.settings).toMatchObject({
      judgeModel: "~anthropic/claude-opus-latest",
      maxToolCalls: 3,
      tools: ["web_search"],
    });
    expect(plan.turnBody).not.toHaveProperty("tools");
  });

  it('forces the fusion with tool_choice "required"', () => {
    const plan = fusionPlan(
      classify(request({ tools: [{ type: "openrouter:fusion" }], tool_choice: "required" }), 0),
    );
    expect(plan.mode).toBe("forced");
    expect(plan.turnBody).not.toHaveProperty("tool_choice");
  });

  it.each([{ type: "function", function: { name: "openrouter_fusion" } }, { type: "openrouter:fusion" }])(
    "forces the fusion when tool_choice names it: %j",
    (toolChoice) => {
      const plan = fusionPlan(
        classify(
          request({ tools: [weatherTool, { type: "openrouter:fusion" }], tool_choice: toolChoice }),
          0,
        ),
      );
      expect(plan.mode).toBe("forced");
      expect(plan.turnBody.tools).toEqual([weatherTool]);
      expect(plan.turnBody).not.toHaveProperty("tool_choice");
    },
  );

  it("keeps the caller's own tools and tool_choice for an offered fusion", () => {
    const plan = fusionPlan(
      classify(
        request({
          tools: [{ type: "openrouter:web_search" }, { type: "openrouter:fusion" }, weatherTool],
          tool_choice: "auto",
        }),
        0,
      ),
    );
    expect(plan.mode).toBe("offered");
    expect(plan.turnBody.tools).toEqual([{ type: "openrouter:web_search" }, weatherTool]);
    expect(plan.turnBody.tool_choice).toBe("auto");
  });

  it("leaves model, stream and stream_options out of the turn body", () => {
    const plan = fusionPlan(
      classify(
        request({
          model: "openrouter/fusion",
          stream: true,
          stream_options: { include_usage: true },
          temperature: 0.3,
          user: "u-1",
        }),
        0,
      ),
    );
    expect(plan.turnBody).toEqual({ messages, temperature: 0.3, user: "u-1" });
  });

  describe("inside a fusion (depth ≥ 1)", () => {
    it("proxies the alias to its writer model", () => {
      const body = proxyBody(classify(request({ model: "openrouter/fusion", stream: true }), 1));
      expect(body.model).toBe(QUALITY_PANEL[0]);
      expect(body.stream).toBe(true);
    });

    it("uses a preset's judge as the alias's writer model", () => {
      const body = proxyBody(
        classify(
          request({ model: "openrouter/fusion", plugins: [{ id: "fusion", preset: "general-fast" }] }),
          2,
        ),
      );
      expect(body.model).toBe("~anthropic/claude-opus-latest");
      expect(body).not.toHaveProperty("plugins");
    });

    it("strips the fusion tool and a tool_choice naming it, keeping the caller's tools", () => {
      const body = proxyBody(
        classify(
          request({
            tools: [weatherTool, { type: "openrouter:fusion" }],
            tool_choice: { type: "function", function: { name: "openrouter_fusion" } },
          }),
          1,
        ),
      );
      expect(body.tools).toEqual([weatherTool]);
      expect(body).not.toHaveProperty("tool_choice");
      expect(body.model).toBe("openai/gpt-5");
    });

    it('strips a lone fusion tool together with tool_choice "required"', () => {
      const body = proxyBody(
        classify(request({ tools: [{ type: "openrouter:fusion" }], tool_choice: "required" }), 1),
      );
      expect(body).not.toHaveProperty("tools");
      expect(body).not.toHaveProperty("tool_choice");
    });

    it("strips the fusion plugin", () => {
      const body = proxyBody(classify(request({ plugins: [{ id: "fusion" }, { id: "web" }] }), 1));
      expect(body.plugins).toEqual([{ id: "web" }]);
    });

    it("passes a plain request through unchanged", () => {
      expect(classify(request({}), 3)).toEqual({ kind: "proxy", body: undefined });
    });
  });
});
