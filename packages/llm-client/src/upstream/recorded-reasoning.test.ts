import { describe, expect, it } from "vitest";
import { recordedChunks, recordingJson, replayRecordings, streamRecorded } from "./recorded-responses.ts";
import { useScriptedUpstream } from "./scripted-upstream.ts";

/**
 * Reasoning and annotations, assembled from real recordings (packages/simulator/recordings): each
 * reasoning field kept in the provider's own spelling, exactly as the non-streamed form carries it.
 */

const request = { model: "test/model", messages: [{ role: "user", content: "hi" }] };
const upstream = useScriptedUpstream({ maxRetries: 0 });

type Fields = Record<string, unknown>;

/** The first choice's message of a recorded completion. */
function recordedMessage(file: string): Fields {
  const body = recordingJson(file) as { choices: Array<{ message: Fields }> };
  const message = body.choices[0]?.message;
  if (!message) throw new Error(`${file} has no message`);
  return message;
}

/** The first choice's deltas of a recorded stream. */
function recordedDeltas(file: string): Fields[] {
  return (recordedChunks(file) as Array<{ choices?: Array<{ delta?: Fields }> }>).flatMap((chunk) =>
    chunk.choices?.[0]?.delta ? [chunk.choices[0].delta] : [],
  );
}

/** The concatenation of a string field over the deltas of a recorded stream. */
function joined(file: string, field: string): string {
  return recordedDeltas(file)
    .map((delta) => (typeof delta[field] === "string" ? delta[field] : ""))
    .join("");
}

async function complete(file: string) {
  const { client } = await upstream.start(replayRecordings(file));
  return (await client.complete(request)).turn;
}

const streamTurn = (file: string) => streamRecorded(upstream.start, file, request);

describe("non-streamed reasoning, unchanged", () => {
  it.each([
    ["deepseek/reasoner-tool-call.json", ["reasoning_content"]],
    ["zai/glm-4.7-thinking.json", ["reasoning_content"]],
    ["xai/grok-3-mini-tool-call.json", ["reasoning_content"]],
    ["groq/gpt-oss-reasoning.json", ["reasoning"]],
    ["cerebras/gpt-oss-120b-reasoning.json", ["reasoning"]],
    ["openrouter/anthropic-thinking-signature.json", ["reasoning", "reasoning_details"]],
    ["openrouter/glm-reasoning.json", ["reasoning", "reasoning_details"]],
    // `reasoning: null` beside a Gemini thought signature: only the details are reasoning.
    ["openrouter/gemini-reasoning-details-signature-only.json", ["reasoning_details"]],
  ])("%s carries %j", async (file, fields) => {
    const message = recordedMessage(file);
    const turn = await complete(file);
    expect(turn.reasoning).toEqual(Object.fromEntries(fields.map((field) => [field, message[field]])));
    expect(turn.content).toBe(message.content);
  });
});

describe("streamed reasoning, assembled", () => {
  it.each([
    "deepseek/reasoner-stream.sse",
    "zai/glm-4.7-thinking-stream.sse",
    "xai/grok-3-mini-reasoning-stream.sse",
  ])("%s: reasoning_content concatenated, streamed through onReasoning, never content", async (file) => {
    const reasoning = joined(file, "reasoning_content");
    const text = joined(file, "content");
    expect(reasoning.length).toBeGreaterThan(100);
    const { turn, seen } = await streamTurn(file);
    expect(turn.reasoning).toEqual({ reasoning_content: reasoning });
    expect(seen.reasoning).toBe(reasoning);
    expect(turn.content).toBe(text);
    expect(seen.text).toBe(text);
  });

  it("Groq's `reasoning` deltas beside a streamed tool call", async () => {
    const file = "groq/gpt-oss-tool-call-stream.sse";
    const reasoning = joined(file, "reasoning");
    expect(reasoning).not.toBe("");
    const { turn, seen } = await streamTurn(file);
    expect(turn.reasoning).toEqual({ reasoning });
    expect(seen.reasoning).toBe(reasoning);
    expect(turn.toolCalls.map((c) => c.function.name)).toEqual(["get_something_by_name"]);
  });

  it("OpenRouter → Anthropic: text and signature of one reasoning_details entry merged by index", async () => {
    const { turn, seen } = await streamTurn("openrouter/anthropic-thinking-signature-stream.sse");
    const text = "This is a simple arithmetic question. 2+2 equals 4.";
    const signatures = recordedDeltas("openrouter/anthropic-thinking-signature-stream.sse")
      .flatMap((delta) => (delta.reasoning_details as Fields[] | undefined) ?? [])
      .map((entry) => entry.signature)
      .filter((s): s is string => typeof s === "string" && s !== "");
    expect(signatures).toHaveLength(1);
    expect(turn.content).toBe("2 + 2 = 4");
    expect(seen.reasoning).toBe(text);
    expect(turn.reasoning).toEqual({
      reasoning: text,
      reasoning_details: [
        { type: "reasoning.text", text, signature: signatures[0], format: "anthropic-claude-v1", index: 0 },
      ],
    });
    // The same shape the non-streamed answer carries.
    const [detail] = recordedMessage("openrouter/anthropic-thinking-signature.json")
      .reasoning_details as Fields[];
    expect(Object.keys(turn.reasoning?.reasoning_details?.[0] ?? {}).sort()).toEqual(
      Object.keys(detail ?? {}).sort(),
    );
  });

  it("OpenRouter → OpenAI o3: an encrypted reasoning_details entry kept whole, no reasoning text", async () => {
    const file = "openrouter/openai-o3-encrypted-reasoning-stream.sse";
    const entries = recordedDeltas(file).flatMap(
      (delta) => (delta.reasoning_details as Fields[] | undefined) ?? [],
    );
    expect(entries).toHaveLength(1);
    const { turn, seen } = await streamTurn(file);
    expect(turn.reasoning).toEqual({ reasoning_details: entries });
    expect(seen.reasoning).toBe("");
    expect(turn.content).toBe(joined(file, "content"));
  });
});

describe("annotations", () => {
  it("keeps a message's url_citation annotations (OpenRouter web plugin)", async () => {
    const file = "openrouter/web-search-annotations.json";
    const turn = await complete(file);
    expect(turn.annotations).toEqual(recordedMessage(file).annotations);
    expect(turn.annotations?.length).toBeGreaterThan(0);
  });

  it("collects the annotations streamed one per delta", async () => {
    const file = "openrouter/web-search-annotations-stream.sse";
    const annotations = recordedDeltas(file).flatMap(
      (delta) => (delta.annotations as unknown[] | undefined) ?? [],
    );
    expect(annotations).toHaveLength(5);
    const { turn } = await streamTurn(file);
    expect(turn.annotations).toEqual(annotations);
  });
});
