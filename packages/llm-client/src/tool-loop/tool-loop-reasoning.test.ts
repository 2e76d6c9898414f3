import { completionBody, type ScriptedHandler, sendJson } from "@fusion/testing";
import type { ChatMessage, WebToolName } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { recordingJson, replayRecordings } from "../upstream/recorded-responses.ts";
import { useScriptedUpstream } from "../upstream/scripted-upstream.ts";
import type { ToolExecutor, ToolResult } from "./tool-executor.ts";
import { runToolLoop } from "./tool-loop.ts";

/** Answers every tool call with a fixed text. */
const tools: ToolExecutor = {
  definitions: (names: ReadonlyArray<WebToolName>) =>
    names.map((name) => ({ type: "function", function: { name, parameters: { type: "object" } } })),
  execute: async (name: string): Promise<ToolResult> => ({ name, ok: true, content: "loaded", urls: [] }),
};

const upstream = useScriptedUpstream({ maxRetries: 0 });

/** Runs a tool loop on an upstream whose first answer is `first` and every later one a text answer. */
async function loopOn(first: ScriptedHandler) {
  const { server, client } = await upstream.start((req, res) =>
    req.n === 1 ? first(req, res) : sendJson(res, 200, completionBody("You rolled a 4.")),
  );
  const out = await runToolLoop({
    client,
    tools,
    model: "deepseek-reasoner",
    messages: [{ role: "user", content: "Roll a die; I guess 4." }],
    toolNames: ["web_search"],
    maxSteps: 2,
  });
  const second = server.requests[1]?.json as { messages: ChatMessage[] };
  return { out, server, sent: second.messages };
}

describe("runToolLoop sends each assistant turn back as the provider sent it", () => {
  it("DeepSeek's reasoning_content goes back byte for byte with the tool call", async () => {
    const file = "deepseek/reasoner-tool-call.json";
    const recorded = (recordingJson(file) as { choices: Array<{ message: Record<string, unknown> }> })
      .choices[0]?.message;
    const reasoning = recorded?.reasoning_content;
    expect(typeof reasoning).toBe("string");

    const { out, server, sent } = await loopOn(replayRecordings(file));
    expect(out.turn.content).toBe("You rolled a 4.");
    expect(server.requests).toHaveLength(2);
    const [, assistant, tool] = sent;
    expect(assistant).toMatchObject({
      role: "assistant",
      content: "Let me load the dice rolling capability!",
      reasoning_content: reasoning,
    });
    expect(assistant?.tool_calls?.map((c) => [c.id, c.function.name, c.function.arguments])).toEqual([
      ["call_00_sXqYgMESDht75NCLLZtt9804", "load_capability", '{"id": "DICE_ROLL"}'],
    ]);
    expect(tool).toEqual({
      role: "tool",
      tool_call_id: "call_00_sXqYgMESDht75NCLLZtt9804",
      content: "loaded",
    });
    // Byte-identical in the request body, not merely equal after parsing.
    expect(server.requests[1]?.body).toContain(`"reasoning_content":${JSON.stringify(reasoning)}`);
  });

  it("a tool call without an id gets one generated id, used by the assistant turn and its tool result", async () => {
    const { sent } = await loopOn((_req, res) =>
      sendJson(res, 200, {
        model: "m",
        choices: [
          {
            message: { role: "assistant", tool_calls: [{ function: { name: "web_search", arguments: "" } }] },
            finish_reason: "tool_calls",
          },
        ],
      }),
    );
    const [, assistant, tool] = sent;
    const id = assistant?.tool_calls?.[0]?.id;
    expect(id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(assistant?.tool_calls?.[0]).toEqual({
      id,
      type: "function",
      function: { name: "web_search", arguments: "{}" },
    });
    expect(tool?.tool_call_id).toBe(id);
  });
});
