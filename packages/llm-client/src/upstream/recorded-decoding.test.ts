import { readRecording } from "@fusion/simulator/test-support";
import type { ChatCompletionChunk } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { recordedChunks, recordingJson, replayRecordings, streamRecorded } from "./recorded-responses.ts";
import { upstreamFailure, useScriptedUpstream } from "./scripted-upstream.ts";
import { parseChunkStream } from "./sse.ts";

/**
 * Tolerant decoding, each behaviour on the real recording that shows it
 * (packages/simulator/recordings, provenance in sources.json).
 */

const request = { model: "test/model", messages: [{ role: "user", content: "hi" }] };
const upstream = useScriptedUpstream({ maxRetries: 0 });

/** A streamed turn with what its onText and onReasoning callbacks received. */
const streamRecording = (file: string) => streamRecorded(upstream.start, file, request);

describe("tool calls", () => {
  it("takes a tool call without `arguments` as {} (OpenRouter → Anthropic, non-streaming)", async () => {
    const { client } = await upstream.start(
      replayRecordings("openrouter/anthropic-tool-call-no-arguments.json"),
    );
    const { turn } = await client.complete(request);
    expect(turn.content).toBe("I'll search for education content for you.");
    expect(turn.finishReason).toBe("tool_calls");
    expect(turn.toolCalls).toEqual([
      {
        id: "toolu_vrtx_015QAXScZzRDPttiPoc34AdD",
        index: 0,
        type: "function",
        function: { name: "find_education_content", arguments: "{}" },
      },
    ]);
  });

  it("assembles a streamed tool call whose delta has no index and no type (Mistral)", async () => {
    const { turn } = await streamRecording("mistral/tool-call-no-index-no-type-stream.sse");
    expect(turn.toolCalls).toEqual([
      {
        id: "gSIMJiOkT",
        type: "function",
        function: { name: "weather", arguments: '{"location": "San Francisco"}' },
      },
    ]);
    expect(turn.finishReason).toBe("tool_calls");
    expect(turn.usage).toEqual({ prompt_tokens: 124, completion_tokens: 22, total_tokens: 146 });
  });

  it("keeps the first id when continuation deltas carry an empty one (Alibaba)", async () => {
    const { turn } = await streamRecording("alibaba/qwen3-max-tool-call-stream.sse");
    expect(turn.toolCalls).toEqual([
      {
        id: "call_eee11723464a4b9eb8cee71d",
        type: "function",
        function: { name: "weather", arguments: '{"location": "San Francisco"}' },
      },
    ]);
  });
});

describe("content as an array of parts (Mistral's Magistral)", () => {
  it("non-streaming: the text parts are the content, the thinking part is not", async () => {
    const file = "mistral/magistral-thinking-content-parts.json";
    const { client } = await upstream.start(replayRecordings(file));
    const { turn } = await client.complete(request);
    const recorded = recordingJson(file) as { choices: Array<{ message: { content: unknown[] } }> };
    const parts = recorded.choices[0]?.message.content ?? [];
    expect(turn.content).toMatch(/^Crossing a river is quite different from crossing a street/);
    expect(turn.content).toMatch(/Stay safe!$/);
    expect(turn.content).not.toContain("Analogizing");
    expect(turn.contentParts).toEqual(parts);
    expect(turn.reasoning).toBeUndefined();
  });

  it("streaming: string deltas are the text, thinking parts are reasoning, parts assembled", async () => {
    const file = "mistral/magistral-thinking-content-parts-stream.sse";
    let text = "";
    let thinking = "";
    for (const chunk of recordedChunks(file)) {
      const content = (chunk as ChatCompletionChunk).choices[0]?.delta?.content;
      if (typeof content === "string") text += content;
      for (const part of Array.isArray(content) ? content : []) {
        for (const inner of part.thinking as Array<{ text: string }>) thinking += inner.text;
      }
    }
    expect(text).toMatch(/^To cross the street safely/);
    expect(thinking).toMatch(/^Okay, the user is asking how to cross the street/);

    const { turn, seen } = await streamRecording(file);
    expect(turn.content).toBe(text);
    expect(seen.text).toBe(text);
    expect(seen.reasoning).toBe(thinking);
    expect(turn.contentParts).toEqual([
      { type: "thinking", thinking: [{ type: "text", text: thinking }] },
      { type: "text", text },
    ]);
    expect(turn.usage).toEqual({ prompt_tokens: 10, completion_tokens: 232, total_tokens: 242 });
  });
});

describe("errors inside a 200 stream", () => {
  it("turns an `event: error` frame into the model's error with its status (Groq)", async () => {
    const { client } = await upstream.start(replayRecordings("groq/gpt-oss-event-error-mid-stream.sse"));
    let reasoning = "";
    const error = await upstreamFailure(
      client.streamTurn(request, {
        onReasoning: (text) => {
          reasoning += text;
        },
      }),
    );
    expect(error).toMatchObject({ kind: "http", status: 400, retryable: false });
    expect(error.message).toMatch(
      /^upstream stream error 400: Tool call validation failed: .* \(model test\/model\)$/,
    );
    expect(reasoning).toMatch(/test"\. Let's do that\.$/);
  });

  it("turns an error object in a chunk whose finish_reason is null into the model's error (OpenRouter)", async () => {
    const { client } = await upstream.start(
      replayRecordings("openrouter/minimax-error-chunk-finish-null.sse"),
    );
    const error = await upstreamFailure(client.streamTurn(request));
    expect(error).toMatchObject({ kind: "http", status: 400, retryable: false });
    expect(error.message).toBe("upstream stream error 400: Token limit reached (model test/model)");
  });
});

describe("stream framing", () => {
  it("skips a first chunk with empty choices (Azure)", async () => {
    const { client } = await upstream.start(replayRecordings("azure/model-router-stream.sse"));
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of client.stream(request)) chunks.push(chunk);
    expect(chunks[0]?.choices).toEqual([]);
    const { turn } = await streamRecording("azure/model-router-stream.sse");
    expect(turn.content).toBe("Capital of Denmark.");
    expect(turn.model).toBe("gpt-5-nano-2025-08-07");
    expect(turn.usage.total_tokens).toBe(93);
  });

  it("takes the usage of a usage-only chunk with choices [] (OpenAI)", async () => {
    const { turn } = await streamRecording("openai/gpt-4.1-text-stream.sse");
    expect(turn.content).toBe("2");
    expect(turn.finishReason).toBe("stop");
    expect(turn.usage).toMatchObject({ prompt_tokens: 27, completion_tokens: 1, total_tokens: 28 });
  });

  it("accepts a stream that ends without [DONE] after its finish_reason and usage (Cerebras)", async () => {
    const { turn } = await streamRecording("cerebras/llama-stream-no-done.sse");
    expect(turn.content).toBe("2");
    expect(turn.finishReason).toBe("stop");
    expect(turn.usage).toMatchObject({ prompt_tokens: 51, completion_tokens: 2, total_tokens: 53 });
  });

  it("reads CRLF-framed events, even split between CR and LF (Google's front end)", async () => {
    // The payloads are native Gemini candidates, not chat.completion.chunks: only the framing is
    // checked here, so the stream ends as one without any finish_reason (truncated) once read.
    const { bytes } = readRecording("google-native/gemini-1.5-flash-crlf-stream.sse");
    const cuts = [...bytes.entries()].filter(([, b]) => b === 0x0d).map(([i]) => i + 1);
    async function* pieces() {
      let from = 0;
      for (const cut of cuts) {
        yield bytes.subarray(from, cut);
        from = cut;
      }
      yield bytes.subarray(from);
    }
    const texts: string[] = [];
    const failure = await (async () => {
      try {
        for await (const chunk of parseChunkStream(pieces(), { suffix: "", secrets: [] })) {
          const { candidates } = chunk as {
            candidates?: Array<{ content: { parts: Array<{ text: string }> } }>;
          };
          texts.push(candidates?.[0]?.content.parts[0]?.text ?? "");
        }
      } catch (err) {
        return err;
      }
    })();
    const expected = recordedChunks("google-native/gemini-1.5-flash-crlf-stream.sse").map(
      (c) =>
        (c as { candidates: Array<{ content: { parts: Array<{ text: string }> } }> }).candidates[0]?.content
          .parts[0]?.text,
    );
    expect(cuts.length).toBeGreaterThan(2);
    expect(texts).toEqual(expected);
    expect(texts.length).toBeGreaterThan(1);
    expect(failure).toMatchObject({ kind: "protocol", message: "upstream stream ended early (truncated)" });
  });
});

describe("non-streamed bodies", () => {
  it("parses a body that starts with whitespace (OpenRouter keep-alive padding)", async () => {
    const file = "openrouter/nonstream-leading-whitespace.json";
    expect(readRecording(file).text).toMatch(/^\n\s+\{/);
    const { client } = await upstream.start(replayRecordings(file));
    const { turn } = await client.complete(request);
    expect(turn.content).toBe('{"title":"Apples are tasty","author":"Hadley Wickham"}');
    expect(turn.usage).toMatchObject({ prompt_tokens: 95, completion_tokens: 15, total_tokens: 110 });
  });
});
