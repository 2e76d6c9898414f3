import type { ChatCompletionChunk } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { UpstreamError } from "./errors.ts";
import { parseChunkStream } from "./sse.ts";

const ctx = { suffix: "", secrets: [] };

async function* pieces(...parts: Array<string | Uint8Array>): AsyncGenerator<string | Uint8Array> {
  for (const part of parts) yield part;
}

async function run(
  ...parts: Array<string | Uint8Array>
): Promise<{ chunks: ChatCompletionChunk[]; error?: UpstreamError }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const chunk of parseChunkStream(pieces(...parts), ctx)) chunks.push(chunk);
    return { chunks };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    return { chunks, error: err };
  }
}

const text = (content: string) => JSON.stringify({ choices: [{ index: 0, delta: { content } }] });
const finish = JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });

describe("parseChunkStream", () => {
  it("parses events split at arbitrary points, including inside a UTF-8 sequence", async () => {
    const body = new TextEncoder().encode(
      `data: ${text("héllo")}\r\n\r\n: ping\n\ndata: ${finish}\n\ndata: [DONE]\n\n`,
    );
    const split = [body.slice(0, 3), body.slice(3, 25), body.slice(25, 26), body.slice(26)];
    const { chunks, error } = await run(...split);
    expect(error).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? null)).toEqual(["héllo", null]);
  });

  it("ignores what follows [DONE]", async () => {
    const { chunks, error } = await run(
      `data: ${text("a")}\n\ndata: ${finish}\n\ndata: [DONE]\n\ndata: {bad\n\n`,
    );
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(2);
  });

  it("accepts a last [DONE] without its blank line", async () => {
    const { error } = await run(`data: ${text("a")}\n\ndata: [DONE]`);
    expect(error).toBeUndefined();
  });

  it("skips event and id fields and empty data", async () => {
    const { chunks, error } = await run(
      `event: message\nid: 1\ndata: ${text("a")}\n\ndata:\n\ndata: ${finish}\n\n`,
    );
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(2);
  });

  it("yields what came before a bad line, then fails", async () => {
    const { chunks, error } = await run(`data: ${text("a")}\n\n<html>oops</html>\n\n`);
    expect(chunks).toHaveLength(1);
    expect(error?.kind).toBe("protocol");
    expect(error?.message).toBe(
      'upstream stream sent a line that is not server-sent events: "<html>oops</html>"',
    );
  });

  it("fails on an event larger than the limit", async () => {
    const chunks: ChatCompletionChunk[] = [];
    const stream = parseChunkStream(pieces(`data: ${"x".repeat(2000)}`), { ...ctx, maxEventChars: 1000 });
    await expect(async () => {
      for await (const chunk of stream) chunks.push(chunk);
    }).rejects.toMatchObject({ kind: "protocol" });
  });

  it("makes an error chunk with a string code an http error without status", async () => {
    const { error } = await run(
      `data: ${JSON.stringify({ error: { code: "server_error", message: "x" } })}\n\n`,
    );
    expect(error).toMatchObject({ kind: "http", retryable: false });
    expect(error?.status).toBeUndefined();
  });

  it("joins a multi-line data field into one JSON payload", async () => {
    const { chunks, error } = await run(
      `data: {"choices": [{"index": 0,\ndata:   "delta": {"content": "two lines"}}]}\n\ndata: ${finish}\n\n`,
    );
    expect(error).toBeUndefined();
    expect(chunks[0]?.choices[0]?.delta?.content).toBe("two lines");
  });

  it("accepts a stream that ends without [DONE] or finish_reason once usage came", async () => {
    const usage = JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } });
    const { chunks, error } = await run(`data: ${text("a")}\n\ndata: ${usage}\n\n`);
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(2);
  });

  it("makes an `event: error` frame an error, whatever its data holds", async () => {
    const plain = await run(`data: ${text("a")}\n\nevent: error\ndata: overloaded\n\n`);
    expect(plain.chunks).toHaveLength(1);
    expect(plain.error).toMatchObject({ kind: "http", message: "upstream stream error: overloaded" });
    const bare = await run(`event: error\ndata: {"message": "busy", "code": 503}\n\n`);
    expect(bare.error).toMatchObject({ kind: "http", status: 503, retryable: true });
  });

  it("takes the status of an error chunk from status_code when its code is a name", async () => {
    const { error } = await run(
      `data: ${JSON.stringify({ error: { code: "tool_use_failed", message: "x", status_code: 400 } })}\n\n`,
    );
    expect(error).toMatchObject({ kind: "http", status: 400, retryable: false });
  });

  it("lets errors of the source through unchanged", async () => {
    const boom = new Error("socket hang up");
    async function* failing(): AsyncGenerator<string> {
      yield `data: ${text("a")}\n\n`;
      throw boom;
    }
    const seen: ChatCompletionChunk[] = [];
    await expect(async () => {
      for await (const chunk of parseChunkStream(failing(), ctx)) seen.push(chunk);
    }).rejects.toBe(boom);
    expect(seen).toHaveLength(1);
  });
});
