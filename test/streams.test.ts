import { readSseFrames } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { contentOf } from "./support/sse.ts";

const OTHER_KEY = "sk-other-tenant-key-0123456789";
const e2e = useStack({ gateways: 2, extraApiKeys: [OTHER_KEY] });

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

function startFusion(gateway: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(e2e.stack.apiKey), ...headers },
    body: JSON.stringify(body),
  });
}

describe("resumable streams", () => {
  it("a stream cut mid-way resumes through another gateway with no gap and no duplicate", async () => {
    const writer = uniqueModel("writer");
    await e2e.control.script(writer, { tokenDelayMs: 40, onlyRoles: ["writer"] });
    const body = {
      model: "openrouter/fusion",
      stream: true,
      messages: [{ role: "user", content: "a long answer please" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: writer, tools: [] }],
      // A client that leaves cancels its fusion unless it asks for time to resume.
      fusion: { resume_grace_ms: 5000 },
    };

    // Reference: the same fusion read whole.
    const whole = await readSseFrames(await startFusion(0, body));
    const expected = contentOf(whole);
    expect(expected).toContain(`Final answer from ${writer}`);

    // Cut after three content frames, then resume through the other gateway.
    const first = await startFusion(0, body);
    const fusionId = first.headers.get("x-fusion-id");
    expect(fusionId).toMatch(/^gen-fusion-/);
    const head = await readSseFrames(
      first,
      (fs) => fs.filter((f) => f.data && f.data !== "[DONE]").length === 3,
    );
    const lastId = head.filter((f) => f.id).at(-1)?.id as string;
    expect(lastId).toMatch(/^\d+-\d+$/);

    const resumed = await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/stream`, {
      headers: { ...auth(e2e.stack.apiKey), "last-event-id": lastId },
    });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get("content-type")).toContain("text/event-stream");
    const tail = await readSseFrames(resumed);
    expect(tail.at(-1)?.data).toBe("[DONE]");
    expect(contentOf(head) + contentOf(tail)).toBe(expected);
    const ids = [...head, ...tail].flatMap((f) => (f.id ? [f.id] : []));
    expect(new Set(ids).size).toBe(ids.length);

    // Without Last-Event-ID the stream replays from the start; the query form works for EventSource.
    const replay = await readSseFrames(
      await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/stream`, {
        headers: auth(e2e.stack.apiKey),
      }),
    );
    expect(contentOf(replay)).toBe(expected);
    const byQuery = await readSseFrames(
      await fetch(`${e2e.stack.gatewayUrl(0)}/api/v1/fusions/${fusionId}/stream?last_event_id=${lastId}`, {
        headers: auth(e2e.stack.apiKey),
      }),
    );
    expect(contentOf(byQuery)).toBe(contentOf(tail));
  });

  it("GET /fusions/{id} returns the finished completion, and only to the key that started it", async () => {
    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "x" }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: uniqueModel("judge") }],
    });
    const completion = (await res.json()) as { id: string };
    const fusionId = res.headers.get("x-fusion-id");
    expect(fusionId).toBe(completion.id);

    const read = await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}`, {
      headers: auth(e2e.stack.apiKey),
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(completion);

    for (const path of [`/api/v1/fusions/${fusionId}`, `/api/v1/fusions/${fusionId}/stream`]) {
      const other = await fetch(`${e2e.stack.gatewayUrl(0)}${path}`, { headers: auth(OTHER_KEY) });
      expect(other.status).toBe(404);
      expect(await other.json()).toMatchObject({ error: { code: 404 } });
    }
    const unknown = await fetch(`${e2e.stack.baseUrl}/api/v1/fusions/gen-fusion-nope`, {
      headers: auth(e2e.stack.apiKey),
    });
    expect(unknown.status).toBe(404);
  });

  it("GET /fusions/{id} tells the state of a fusion that is still running", async () => {
    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 1500 });
    const res = await startFusion(0, {
      model: "openrouter/fusion",
      stream: true,
      messages: [{ role: "user", content: "x" }],
      plugins: [{ id: "fusion", analysis_models: [slow], model: uniqueModel("judge"), tools: [] }],
    });
    const fusionId = res.headers.get("x-fusion-id");
    const state = await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}`, {
      headers: auth(e2e.stack.apiKey),
    });
    expect(await state.json()).toMatchObject({
      id: fusionId,
      object: "fusion",
      status: expect.stringMatching(/queued|running/),
    });
    await readSseFrames(res);
  });
});

describe("seeing the deliberation", () => {
  const fusionBody = (panel: string[], judge: string, extra: Record<string, unknown> = {}) => ({
    model: "openrouter/fusion",
    stream: true,
    messages: [{ role: "user", content: "carbon tax evidence" }],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge }],
    ...extra,
  });

  it("progress goes out as comment lines by default, as named events when asked", async () => {
    const panel = [uniqueModel("ok"), uniqueModel("bad")];
    await e2e.control.script(panel[1] as string, { alwaysFail: { status: 400 } });
    const judge = uniqueModel("judge");

    const quiet = await readSseFrames(await startFusion(0, fusionBody(panel, judge)));
    const comments = quiet.filter((f) => f.comment?.startsWith(" fusion.progress "));
    expect(comments.length).toBeGreaterThan(0);
    expect(quiet.some((f) => f.event)).toBe(false);

    const loud = await readSseFrames(
      await startFusion(1, fusionBody(panel, judge, { fusion: { progress: true } })),
    );
    const progress = loud
      .filter((f) => f.event === "fusion.progress")
      .map((f) => JSON.parse(f.data as string) as Record<string, unknown>);
    const seen = progress.map((p) => `${p.stage}:${p.status}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        "panel:started",
        "panel:tool_call",
        "panel:finished",
        "panel:failed",
        "judge:started",
        "judge:finished",
        "writer:started",
        "writer:finished",
      ]),
    );
    const toolCall = progress.find((p) => p.status === "tool_call" && p.stage === "panel");
    expect(toolCall).toMatchObject({
      object: "fusion.progress",
      choices: [],
      tool: "web_search",
      query: "carbon tax evidence",
    });
    const failed = progress.find((p) => p.status === "failed");
    expect(failed).toMatchObject({
      model: panel[1],
      latency_ms: expect.any(Number),
      error: expect.stringContaining("400"),
    });
    const finished = progress.find((p) => p.stage === "panel" && p.status === "finished");
    expect(finished).toMatchObject({ model: panel[0], index: 0, latency_ms: expect.any(Number) });
    // The header works as well as the body field.
    const byHeader = await readSseFrames(
      await startFusion(0, fusionBody(panel, judge), { "x-fusion-progress": "true" }),
    );
    expect(byHeader.some((f) => f.event === "fusion.progress")).toBe(true);
  });

  it("the openai client reads progress-enabled and default streams without error", async () => {
    const judge = uniqueModel("judge");
    for (const fusion of [undefined, { progress: true }]) {
      const stream = await e2e.client.chat.completions.create({
        ...(fusionBody([uniqueModel("p")], judge, fusion ? { fusion } : {}) as { model: string }),
        messages: [{ role: "user", content: "carbon tax evidence" }],
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
      expect(text).toContain(`Final answer from ${judge}`);
    }
  });

  it("the breakdown adds up to usage, stage by stage", async () => {
    const panel = [uniqueModel("a"), uniqueModel("b"), uniqueModel("bad")];
    await e2e.control.script(panel[2] as string, { alwaysFail: { status: 400 } });
    const res = await e2e.post({ ...fusionBody(panel, uniqueModel("judge")), stream: false });
    type U = { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost?: number };
    type S = {
      model: string;
      status: string;
      latency_ms: number;
      usage: U;
      tool_calls_requested: number;
      tool_calls_executed: number;
      web_search_requests: number;
    };
    const body = (await res.json()) as {
      usage: U & {
        server_tool_use: {
          web_search_requests: number;
          tool_calls_requested: number;
          tool_calls_executed: number;
        };
      };
      fusion: { breakdown: { panel: S[]; judge: S; writer: S } };
    };
    const { panel: ps, judge, writer } = body.fusion.breakdown;
    expect(ps.map((s) => [s.model, s.status])).toEqual([
      [panel[0], "ok"],
      [panel[1], "ok"],
      [panel[2], "failed"],
    ]);
    expect(judge.status).toBe("ok");
    expect(writer.status).toBe("ok");
    const stages = [...ps, judge, writer];
    for (const s of stages) expect(s.latency_ms).toBeGreaterThanOrEqual(0);
    for (const key of ["prompt_tokens", "completion_tokens", "total_tokens"] as const) {
      expect(stages.reduce((n, s) => n + s.usage[key], 0)).toBe(body.usage[key]);
    }
    expect(stages.reduce((n, s) => n + (s.usage.cost ?? 0), 0)).toBeCloseTo(body.usage.cost ?? 0, 9);
    expect(stages.reduce((n, s) => n + s.web_search_requests, 0)).toBe(
      body.usage.server_tool_use.web_search_requests,
    );
    expect(stages.reduce((n, s) => n + s.tool_calls_executed, 0)).toBe(
      body.usage.server_tool_use.tool_calls_executed,
    );
    expect(body.usage.server_tool_use.web_search_requests).toBeGreaterThan(0);
  });

  it("the panel's sources reach the answer as url_citation annotations, with spans where the writer used them", async () => {
    const judge = uniqueModel("judge");
    const res = await e2e.post({ ...fusionBody([uniqueModel("p")], judge), stream: false });
    const body = (await res.json()) as {
      choices: Array<{
        message: {
          content: string;
          annotations?: Array<{
            type: string;
            url_citation: { url: string; title: string; start_index?: number; end_index?: number };
          }>;
        };
      }>;
      fusion: {
        analysis: { unique_insights: Array<{ sources?: string[] }>; consensus_sources?: string[][] };
      };
    };
    const message = body.choices[0]?.message;
    const annotations = message?.annotations ?? [];
    expect(annotations.length).toBeGreaterThan(0);
    expect(annotations.every((a) => a.type === "url_citation" && a.url_citation.url.startsWith("http"))).toBe(
      true,
    );
    const spanned = annotations.find((a) => a.url_citation.start_index !== undefined);
    expect(spanned).toBeDefined();
    const { url, start_index, end_index } = spanned?.url_citation ?? { url: "" };
    expect(message?.content.slice(start_index, end_index)).toBe(url);
    // The analysis names the sources behind its items.
    expect(body.fusion.analysis.unique_insights[0]?.sources?.length).toBeGreaterThan(0);
    expect(body.fusion.analysis.consensus_sources?.[0]?.length).toBeGreaterThan(0);
  });

  it("streams carry the annotations on the finishing chunk", async () => {
    const frames = await readSseFrames(
      await startFusion(0, fusionBody([uniqueModel("p")], uniqueModel("judge"))),
    );
    const finishing = frames
      .filter((f) => f.data && f.data !== "[DONE]")
      .map(
        (f) =>
          JSON.parse(f.data as string) as {
            choices: Array<{ finish_reason: string | null; delta: { annotations?: unknown[] } }>;
          },
      )
      .find((c) => c.choices[0]?.finish_reason === "stop");
    expect(finishing?.choices[0]?.delta.annotations?.length).toBeGreaterThan(0);
  });
});
