import { beforeEach, describe, expect, it } from "vitest";
import { controlAuthorization } from "./control-token.ts";
import { readRecording } from "./recordings.ts";
import { chat, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
beforeEach(async () => {
  await sim.control.clearScripts();
  await sim.control.clearRequests();
});

const body = (model: string, extra: object = {}) => ({ model, messages: [user("hi")], ...extra });
const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

describe("replay", () => {
  it("answers each call with the next recording, byte for byte; the last one repeats", async () => {
    const files = ["deepseek/reasoner-tool-call.json", "zai/glm-4.7-thinking.json"];
    await sim.control.script("sim/replayed", { replay: files });
    const served: Response[] = [];
    for (let i = 0; i < 3; i++) served.push(await chat(sim.url, body("sim/replayed")));
    const expected = [files[0], files[1], files[1]].map((f) => readRecording(f as string));
    for (const [i, res] of served.entries()) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(await bytesOf(res)).toEqual(expected[i]?.bytes);
    }
    const requests = await sim.control.requests({ model: "sim/replayed" });
    expect(requests.map((r) => r.replayed)).toEqual([files[0], files[1], files[1]]);
    expect(requests.every((r) => r.usage === undefined)).toBe(true);
  });

  it("serves an .sse recording as text/event-stream, CRLF framing and missing [DONE] included", async () => {
    for (const file of [
      "google-native/gemini-1.5-flash-crlf-stream.sse",
      "cerebras/llama-stream-no-done.sse",
    ]) {
      await sim.control.script("sim/stream", { replay: [file] });
      const res = await chat(sim.url, body("sim/stream", { stream: true }));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const bytes = await bytesOf(res);
      expect(bytes).toEqual(readRecording(file).bytes);
    }
    expect(
      new TextDecoder().decode(readRecording("google-native/gemini-1.5-flash-crlf-stream.sse").bytes),
    ).toMatch(/\r\n\r\n/);
  });

  it("answers with the recorded status; an error body fits streaming and non-streaming calls", async () => {
    await sim.control.script("sim/limited", { replay: ["openrouter/error-429-upstream-rate-limited.json"] });
    for (const stream of [false, true]) {
      const res = await chat(sim.url, body("sim/limited", { stream }));
      expect(res.status).toBe(429);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(await bytesOf(res)).toEqual(
        readRecording("openrouter/error-429-upstream-rate-limited.json").bytes,
      );
    }
  });

  it("refuses a recording that does not fit the call's streaming with a 400 naming the mismatch", async () => {
    await sim.control.script("sim/json", { replay: ["zai/glm-4.7-thinking.json"] });
    const streamed = await chat(sim.url, body("sim/json", { stream: true }));
    expect(streamed.status).toBe(400);
    expect(streamed.headers.get("x-simulator-error")).toBe("replay");
    const error = (await streamed.json()) as { error: { message: string } };
    expect(error.error.message).toContain("replay mismatch for sim/json");
    expect(error.error.message).toContain("zai/glm-4.7-thinking.json");
    expect(error.error.message).toContain('"stream": true');

    await sim.control.script("sim/sse", { replay: ["zai/glm-4.7-thinking-stream.sse"] });
    const plain = await chat(sim.url, body("sim/sse"));
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { error: { message: string } }).error.message).toMatch(
      /non-streaming request was given zai\/glm-4\.7-thinking-stream\.sse.*script a \.json recording/,
    );
  });

  it("keeps recording every request, with its role and body", async () => {
    await sim.control.script("sim/panel", { replay: ["mistral/tool-call.json"] });
    const sent = body("sim/panel", { tools: [tool("web_search")] });
    await chat(sim.url, sent);
    const [request] = await sim.control.requests({ model: "sim/panel" });
    expect(request).toMatchObject({
      role: "panelist",
      stream: false,
      body: sent,
      replayed: "mistral/tool-call.json",
    });
  });

  it("composes with failures, latency and onlyRoles", async () => {
    await sim.control.script("sim/flaky", {
      failures: [{ status: 503 }],
      latencyMs: 1,
      replay: ["groq/gpt-oss-reasoning.json"],
    });
    expect((await chat(sim.url, body("sim/flaky"))).status).toBe(503);
    const res = await chat(sim.url, body("sim/flaky"));
    expect(await bytesOf(res)).toEqual(readRecording("groq/gpt-oss-reasoning.json").bytes);

    await sim.control.script("sim/panel-only", {
      onlyRoles: ["panelist"],
      replay: ["groq/gpt-oss-reasoning.json"],
    });
    const plain = (await (await chat(sim.url, body("sim/panel-only"))).json()) as {
      choices: Array<{ message: { content: string } }>;
    };
    expect(plain.choices[0]?.message.content).toContain("Hello from");
  });

  it("rejects unknown recordings and fields a replay would ignore", async () => {
    const put = (script: object) =>
      fetch(`${sim.url}/_sim/scripts/sim%2Fbad`, {
        method: "PUT",
        body: JSON.stringify(script),
        headers: controlAuthorization(sim.controlToken),
      });
    const unknown = await put({ replay: ["openai/never-recorded.json"] });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain("no recording openai/never-recorded.json");
    expect((await put({ replay: ["../package.json"] })).status).toBe(400);
    expect((await put({ replay: [] })).status).toBe(400);
    const conflict = await put({ replay: ["mistral/tool-call.json"], reply: "x" });
    expect(conflict.status).toBe(400);
    expect(await conflict.text()).toContain("reply has no effect on a replayed model");
  });

  it("answers a replay set in-process with a recording that is not listed with a clear 400", async () => {
    sim.state.setScript("sim/in-process", { replay: ["openai/never-recorded.json"] });
    const res = await chat(sim.url, body("sim/in-process"));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("openai/never-recorded.json is not listed");
  });
});
