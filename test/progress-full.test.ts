import { readSseFrames, type SseFrame } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { chunksOf, contentOf } from "./support/sse.ts";

/** The progress of a 2-panelist fusion at level `true` (stage:status, sorted): what `full` adds to. */
const EVENTS_OUTLINE = [
  "panel0:started",
  "panel0:tool_call",
  "panel0:finished",
  "panel1:started",
  "panel1:tool_call",
  "panel1:finished",
  "judge:started",
  "judge:tool_call",
  "judge:finished",
  "writer:started",
  "writer:finished",
].sort();

/**
 * Progress "full" (issue 12): with `"fusion": {"progress": "full"}` the stream's named progress events
 * also carry every panelist's and the judge's text as it is written, each tool call's result, and each
 * stage's usage, on the real services with the simulator; the default stream stays as it was, and the
 * official openai SDK reads both.
 */
const e2e = useStack({ gateways: 2 });

interface Progress {
  id: string;
  object: string;
  created: number;
  choices: unknown[];
  stage: "panel" | "judge" | "writer";
  status: string;
  model: string;
  index?: number;
  step?: number;
  text?: string;
  reset?: boolean;
  tool?: string;
  query?: string;
  url?: string;
  latency_ms?: number;
  error?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost?: number };
}

type Finish = { fusion?: { responses?: Array<{ model: string; content: string }> } };

function post(body: unknown, headers: Record<string, string> = {}, gateway = 0): Promise<Response> {
  return fetch(`${e2e.stack.gatewayUrl(gateway)}/api/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${e2e.stack.apiKey}`,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

function fusionBody(panel: string[], judge: string, fusion?: Record<string, unknown>) {
  return {
    model: "openrouter/fusion",
    stream: true,
    messages: [{ role: "user", content: "carbon tax evidence" }],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge }],
    ...(fusion ? { fusion } : {}),
  };
}

/** The named progress events of a stream, parsed, with their frame ids. */
function progressOf(frames: SseFrame[]): Array<Progress & { frameId: string }> {
  return frames
    .filter((f) => f.event === "fusion.progress")
    .map((f) => ({ ...(JSON.parse(f.data as string) as Progress), frameId: f.id as string }));
}

/** The text a client shows for a stage: its last step's deltas, each reset dropping what came before. */
function textOf(events: Progress[]): string {
  const deltas = events.filter((e) => e.status === "delta");
  const last = Math.max(...deltas.map((e) => e.step ?? 0));
  let text = "";
  for (const d of deltas.filter((e) => e.step === last)) text = (d.reset ? "" : text) + (d.text ?? "");
  return text;
}

/** The `stage:status` of every progress event except text and tool results: what progress `true` shows. */
const outline = (events: Progress[]) =>
  events
    .filter((e) => e.status !== "delta" && e.status !== "tool_result")
    .map((e) => `${e.stage}${e.index !== undefined ? e.index : ""}:${e.status}`)
    .sort();

describe('progress "full"', () => {
  it("streams every panelist's and the judge's text, tool results and usage; a panelist's text is its answer", async () => {
    const panel = [uniqueModel("p0"), uniqueModel("p1")];
    const judge = uniqueModel("judge");
    // Text that flows for longer than the appends' gap (100 ms), so that it comes in several pieces.
    for (const model of panel) await e2e.control.script(model, { tokenDelayMs: 20 });
    await e2e.control.script(judge, { tokenDelayMs: 2 });
    const started = Date.now();
    const res = await post(fusionBody(panel, judge, { progress: "full" }));
    expect(res.status).toBe(200);
    const frames = await readSseFrames(res);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    const progress = progressOf(frames);

    // Every event keeps the progress shape, and its frame id says when the server wrote it.
    for (const p of progress) {
      expect(p).toMatchObject({ object: "fusion.progress", choices: [], id: res.headers.get("x-fusion-id") });
      const [ms] = p.frameId.split("-").map(Number);
      expect(ms).toBeGreaterThanOrEqual(started - 1000);
      expect(ms).toBeLessThanOrEqual(Date.now() + 1000);
    }
    const finish = chunksOf(frames).find((c) => "fusion" in c) as Finish | undefined;
    const responses = finish?.fusion?.responses ?? [];
    expect(responses.map((r) => r.model)).toEqual(panel);

    for (const [index, model] of panel.entries()) {
      const own = progress.filter((p) => p.stage === "panel" && p.index === index);
      expect(own.every((p) => p.model === model)).toBe(true);
      // Text in pieces, the answer's text joined; then the result of its web search, with its latency.
      expect(own.filter((p) => p.status === "delta").length).toBeGreaterThan(1);
      expect(textOf(own)).toBe(responses[index]?.content);
      expect(own.find((p) => p.status === "tool_result")).toMatchObject({
        tool: "web_search",
        query: "carbon tax evidence",
        latency_ms: expect.any(Number),
      });
      expect(own.find((p) => p.status === "tool_result")?.error).toBeUndefined();
      const finished = own.find((p) => p.status === "finished");
      expect(finished?.usage).toMatchObject({
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        total_tokens: expect.any(Number),
        cost: expect.any(Number),
      });
      // Nothing of a stage comes after its `finished`.
      expect(own.at(-1)?.status).toBe("finished");
    }

    // The judge's raw text is its JSON analysis.
    const judged = progress.filter((p) => p.stage === "judge");
    expect(judged.every((p) => p.model === judge)).toBe(true);
    expect(JSON.parse(textOf(judged))).toMatchObject({ consensus: expect.any(Array) });
    expect(judged.at(-1)).toMatchObject({ status: "finished", usage: { total_tokens: expect.any(Number) } });
    expect(judged.find((p) => p.status === "tool_result")).toMatchObject({ latency_ms: expect.any(Number) });

    // The writer's text stays in the chunks; its progress has usage too.
    expect(progress.some((p) => p.stage === "writer" && p.status === "delta")).toBe(false);
    expect(progress.find((p) => p.stage === "writer" && p.status === "finished")?.usage).toMatchObject({
      total_tokens: expect.any(Number),
    });
    expect(contentOf(frames)).toContain(`Final answer from ${judge}`);

    // Besides text and tool results, the same events as progress `true`.
    expect(outline(progress)).toEqual(EVENTS_OUTLINE);
    // Every call of the panel and the judge streamed upstream.
    const calls = await e2e.control.requests({ model: panel[0] });
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every((r) => r.stream)).toBe(true);
  });

  it("a failed tool call's result says why", async () => {
    const panelist = uniqueModel("fetcher");
    await e2e.control.script(panelist, { fetchUrls: ["http://10.0.0.1/inside"] });
    const frames = await readSseFrames(
      await post(fusionBody([panelist], uniqueModel("judge"), { progress: "full" })),
    );
    const result = progressOf(frames).find((p) => p.stage === "panel" && p.status === "tool_result");
    expect(result).toMatchObject({
      tool: "web_fetch",
      url: "http://10.0.0.1/inside",
      latency_ms: expect.any(Number),
      error: expect.stringContaining("private address"),
    });
  });

  it("the default stream is unchanged: progress as comments, no text, and the panel does not stream upstream", async () => {
    const panel = [uniqueModel("p0"), uniqueModel("p1")];
    const judge = uniqueModel("judge");
    const frames = await readSseFrames(await post(fusionBody(panel, judge)));
    expect(frames.some((f) => f.event)).toBe(false);
    const progress = frames
      .filter((f) => f.comment?.startsWith(" fusion.progress "))
      .map((f) => JSON.parse((f.comment as string).slice(" fusion.progress ".length)) as Progress);
    expect(outline(progress)).toEqual(EVENTS_OUTLINE);
    // Not one event more than that, and none with text, tool results or usage.
    expect(progress).toHaveLength(11);
    expect(progress.some((p) => "usage" in p || "text" in p)).toBe(false);
    for (const model of [...panel, judge]) {
      expect((await e2e.control.requests({ model })).some((r) => r.stream && r.role !== "writer")).toBe(
        false,
      );
    }

    // `true` names the same events, still without text.
    const named = progressOf(await readSseFrames(await post(fusionBody(panel, judge, { progress: true }))));
    expect(named).toHaveLength(11);
    expect(named.some((p) => p.status === "delta" || p.status === "tool_result" || "usage" in p)).toBe(false);
  });

  it("the header asks for it too, a resume replays it, and any other value is refused", async () => {
    const panel = [uniqueModel("p")];
    const judge = uniqueModel("judge");
    const res = await post(fusionBody(panel, judge), { "x-fusion-progress": "full" });
    const live = await readSseFrames(res);
    const fusionId = res.headers.get("x-fusion-id");
    expect(progressOf(live).some((p) => p.status === "delta")).toBe(true);

    // Replayed from the start through the other gateway: the same events, the text included.
    const replay = await readSseFrames(
      await fetch(`${e2e.stack.gatewayUrl(1)}/api/v1/fusions/${fusionId}/stream?progress=full`, {
        headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
      }),
    );
    const entries = (frames: SseFrame[]) => frames.filter((f) => f.id).map((f) => [f.id, f.event, f.data]);
    expect(entries(replay)).toEqual(entries(live));

    for (const progress of ["verbose", "FULL", 2, "events"]) {
      const refused = await post(fusionBody(panel, judge, { progress }));
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        error: { code: 400, message: 'invalid request: fusion.progress: must be true, false or "full"' },
      });
    }
  });

  it("the openai SDK streams a fusion with progress full: the answer, and the progress as content-less chunks", async () => {
    const judge = uniqueModel("judge");
    const stream = await e2e.client.chat.completions.create({
      ...(fusionBody([uniqueModel("p")], judge, { progress: "full" }) as { model: string }),
      messages: [{ role: "user", content: "carbon tax evidence" }],
      stream: true,
    });
    let text = "";
    const statuses = new Set<string>();
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      const object = (chunk as { object: string }).object;
      if (object === "fusion.progress") statuses.add((chunk as unknown as Progress).status);
    }
    expect(text).toContain(`Final answer from ${judge}`);
    expect([...statuses]).toEqual(expect.arrayContaining(["started", "delta", "tool_result", "finished"]));
  });
});
