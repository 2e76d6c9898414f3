import type { AssistantTurn } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { assistantMessage } from "./assistant-message.ts";
import { recordingJson, replayRecordings } from "./recorded-responses.ts";
import { useScriptedUpstream } from "./scripted-upstream.ts";

const request = { model: "test/model", messages: [{ role: "user", content: "hi" }] };
const upstream = useScriptedUpstream({ maxRetries: 0 });

type Message = Record<string, unknown>;

function recordedMessage(file: string): Message {
  const body = recordingJson(file) as { choices: Array<{ message: Message }> };
  return body.choices[0]?.message ?? {};
}

async function turnOf(file: string): Promise<AssistantTurn> {
  const { client } = await upstream.start(replayRecordings(file));
  return (await client.complete(request)).turn;
}

describe("assistantMessage", () => {
  it("sends OpenRouter's reasoning and reasoning_details back unchanged (Anthropic thinking)", async () => {
    const file = "openrouter/anthropic-thinking-signature.json";
    const recorded = recordedMessage(file);
    expect(assistantMessage(await turnOf(file))).toEqual({
      role: "assistant",
      content: recorded.content,
      reasoning: recorded.reasoning,
      reasoning_details: recorded.reasoning_details,
    });
  });

  it("sends a Gemini thought signature back (reasoning_details only)", async () => {
    const file = "openrouter/gemini-reasoning-details-signature-only.json";
    const message = assistantMessage(await turnOf(file));
    expect(message.reasoning_details).toEqual(recordedMessage(file).reasoning_details);
    expect(message).not.toHaveProperty("reasoning");
  });

  it("sends DeepSeek's reasoning_content and tool calls back, content beside them", async () => {
    const file = "deepseek/reasoner-tool-call.json";
    const recorded = recordedMessage(file);
    const message = assistantMessage(await turnOf(file));
    expect(message).toMatchObject({
      role: "assistant",
      content: "Let me load the dice rolling capability!",
      reasoning_content: recorded.reasoning_content,
    });
    expect(message.tool_calls?.map((c) => c.id)).toEqual(["call_00_sXqYgMESDht75NCLLZtt9804"]);
  });

  it("sends Mistral's content parts back as they came, thinking part included", async () => {
    const file = "mistral/magistral-thinking-content-parts.json";
    const message = assistantMessage(await turnOf(file));
    expect(message).toEqual({ role: "assistant", content: recordedMessage(file).content });
  });

  it("sends null content beside tool calls when there is no text", async () => {
    const message = assistantMessage(await turnOf("xai/grok-3-mini-tool-call.json"));
    expect(message.content).toBeNull();
    expect(message.tool_calls?.map((c) => c.function.name)).toEqual(["weather"]);
    expect(typeof message.reasoning_content).toBe("string");
  });
});
