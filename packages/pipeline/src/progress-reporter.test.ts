import type { PendingEvent, ProgressEvent } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import type { EventSink } from "./event-sink.ts";
import { MAX_STEP_TEXT_CHARS, MIN_APPEND_GAP_MS, progressReporter, toolResult } from "./progress-reporter.ts";
import { MemorySink, memoryLog } from "./test-support.ts";

const stage = { stage: "panel" as const, model: "vendor/model", index: 2 };

/**
 * A sink whose appends wait until the test releases them, one by one: it records each append's
 * events and how many appends were in flight at once.
 */
class GatedSink implements EventSink {
  readonly appends: ProgressEvent[][] = [];
  readonly #waiting: Array<() => void> = [];
  inFlight = 0;
  maxInFlight = 0;

  append(_fusionId: string, ...events: PendingEvent[]): Promise<string> {
    this.appends.push(events.map((e) => JSON.parse(JSON.stringify(e.data)) as ProgressEvent));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        this.inFlight--;
        resolve(`${this.appends.length}-0`);
      });
    });
  }

  /** Lets the oldest append finish. */
  async release(): Promise<void> {
    this.#waiting.shift()?.();
    await new Promise((r) => setImmediate(r));
  }

  /** Each append as [status, step, text] rows. */
  rows(): Array<Array<[string, number | undefined, string | undefined]>> {
    return this.appends.map((batch) => batch.map((e) => [e.status, e.step, e.text]));
  }
}

describe("progressReporter", () => {
  it("writes nothing at progress none", async () => {
    const sink = new MemorySink();
    const progress = progressReporter(sink, "f", "none", stage, memoryLog());
    progress({ status: "started" });
    progress.delta("text", 0);
    await progress.flush();
    expect(progress.full).toBe(false);
    expect(sink.events).toEqual([]);
  });

  it("writes at progress events what it always did: no text, no tool results, no usage", async () => {
    const sink = new MemorySink();
    const progress = progressReporter(sink, "f", "events", stage, memoryLog());
    progress({ status: "started" });
    progress.delta("text", 0);
    progress({ status: "tool_call", tool: "web_search", query: "q" });
    progress(toolResult({ name: "web_search", arguments: '{"query":"q"}' }, { ok: true, latencyMs: 3 }));
    progress({
      status: "finished",
      latency_ms: 9,
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    await progress.flush();
    expect(sink.progress()).toEqual([
      {
        id: "f",
        object: "fusion.progress",
        created: expect.any(Number),
        choices: [],
        ...stage,
        status: "started",
      },
      {
        id: "f",
        object: "fusion.progress",
        created: expect.any(Number),
        choices: [],
        ...stage,
        status: "tool_call",
        tool: "web_search",
        query: "q",
      },
      {
        id: "f",
        object: "fusion.progress",
        created: expect.any(Number),
        choices: [],
        ...stage,
        status: "finished",
        latency_ms: 9,
      },
    ]);
  });

  describe("last: the stage's last update, handed back to go with its last entries", () => {
    const finished = {
      status: "finished" as const,
      latency_ms: 7,
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };

    it("at none, is nothing", async () => {
      const sink = new MemorySink();
      const progress = progressReporter(sink, "f", "none", stage, memoryLog());
      expect(await progress.last(finished)).toEqual([]);
      expect(sink.events).toEqual([]);
    });

    it("at events, is the update as that level writes it (no usage), not appended", async () => {
      const sink = new MemorySink();
      const progress = progressReporter(sink, "f", "events", stage, memoryLog());
      const events = await progress.last(finished);
      expect(sink.events).toEqual([]);
      expect(events).toEqual([
        {
          type: "progress",
          data: {
            id: "f",
            object: "fusion.progress",
            created: expect.any(Number),
            choices: [],
            ...stage,
            status: "finished",
            latency_ms: 7,
          },
        },
      ]);
      expect(await progress.last({ status: "delta", text: "x", step: 0 })).toEqual([]);
    });

    it("at full, waits until everything reported before it is appended, then is the whole update", async () => {
      const sink = new GatedSink();
      const progress = progressReporter(sink, "f", "full", stage, memoryLog(), { minAppendGapMs: 0 });
      progress({ status: "started" });
      progress.delta("text", 0);
      let settled = false;
      const last = progress.last(finished).then((events) => {
        settled = true;
        return events;
      });
      await sink.release();
      expect(settled).toBe(false);
      await sink.release();
      const events = await last;
      expect(sink.rows()).toEqual([[["started", undefined, undefined]], [["delta", 0, "text"]]]);
      expect(events).toEqual([
        {
          type: "progress",
          data: expect.objectContaining({ ...stage, ...finished, object: "fusion.progress" }),
        },
      ]);
    });
  });

  it("at full, sends the first event at once and coalesces what arrives during an append, in order", async () => {
    const sink = new GatedSink();
    const progress = progressReporter(sink, "f", "full", stage, memoryLog(), { minAppendGapMs: 0 });
    progress({ status: "started" });
    expect(sink.rows()).toEqual([[["started", undefined, undefined]]]);
    // While the first append is in flight: text of step 0 in pieces, a tool call, text of step 1.
    progress.delta("Let me ", 0);
    progress.delta("search.", 0);
    progress({ status: "tool_call", tool: "web_search", query: "q" });
    progress.delta("The ", 1);
    progress.delta("answer", 1);
    expect(sink.appends).toHaveLength(1);
    await sink.release();
    expect(sink.rows()[1]).toEqual([
      ["delta", 0, "Let me search."],
      ["tool_call", undefined, undefined],
      ["delta", 1, "The answer"],
    ]);
    progress.delta(" is 42.", 1);
    progress({
      status: "finished",
      latency_ms: 5,
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    await sink.release();
    expect(sink.rows()[2]).toEqual([
      ["delta", 1, " is 42."],
      ["finished", undefined, undefined],
    ]);
    expect(sink.appends[2]?.[1]).toMatchObject({ usage: { total_tokens: 3 }, latency_ms: 5 });
    const flushed = progress.flush();
    await sink.release();
    await flushed;
    expect(sink.maxInFlight).toBe(1);
    expect(sink.appends[1]?.[0]).toMatchObject({ object: "fusion.progress", choices: [], ...stage });
  });

  it("on a reset drops the step's waiting text and tells the client to drop what it had; new text joins the reset", async () => {
    const sink = new GatedSink();
    const progress = progressReporter(sink, "f", "full", stage, memoryLog(), { minAppendGapMs: 0 });
    progress.reset(0); // nothing told of step 0 yet: nothing to reset
    progress.delta("Half an ans", 0);
    progress.delta("wer that br", 0);
    progress({ status: "tool_call", tool: "web_fetch", url: "https://x.org" });
    progress.delta("oke", 0);
    progress.reset(0);
    progress.delta("A whole ", 0);
    progress.delta("answer.", 0);
    await sink.release();
    expect(sink.rows()).toEqual([
      [["delta", 0, "Half an ans"]],
      [
        ["tool_call", undefined, undefined],
        ["delta", 0, "A whole answer."],
      ],
    ]);
    expect(sink.appends[1]?.[1]).toMatchObject({ status: "delta", reset: true });
    await sink.release();
  });

  it(`at full, appends at most once every ${MIN_APPEND_GAP_MS} ms while text flows; the first piece goes at once`, async () => {
    const sink = new MemorySink();
    const progress = progressReporter(sink, "f", "full", stage, memoryLog());
    const started = Date.now();
    progress.delta("first", 0);
    // Sent at once: nothing went out before it.
    expect(sink.events).toHaveLength(1);
    let sent = "first";
    while (Date.now() - started < 350) {
      progress.delta(".", 0);
      sent += ".";
      await new Promise((r) => setTimeout(r, 2));
    }
    await progress.flush();
    const elapsed = Date.now() - started;
    const deltas = sink.progress();
    expect(deltas.map((e) => e.text).join("")).toBe(sent);
    // Many pieces, in no more appends than the gap allows (however slow the machine; a timer may fire
    // a millisecond early, hence one to spare).
    expect(sent.length).toBeGreaterThan(50);
    expect(deltas.length).toBeLessThanOrEqual(Math.floor(elapsed / MIN_APPEND_GAP_MS) + 2);
  });

  it("does not hold an update back for the gap: a tool call goes out with the text before it", async () => {
    const sink = new MemorySink();
    const progress = progressReporter(sink, "f", "full", stage, memoryLog(), { minAppendGapMs: 60_000 });
    progress.delta("first", 0);
    await new Promise((r) => setTimeout(r, 5));
    progress.delta(" second", 0);
    await new Promise((r) => setTimeout(r, 5));
    // Text alone waits for the gap (a minute here)...
    expect(sink.progress().map((e) => e.text)).toEqual(["first"]);
    // ...a tool call does not, and takes the waiting text with it, in order.
    progress({ status: "tool_call", tool: "web_search", query: "q" });
    await progress.flush();
    expect(sink.progress().map((e) => [e.status, e.text])).toEqual([
      ["delta", "first"],
      ["delta", " second"],
      ["tool_call", undefined],
    ]);
  });

  it(`sends at most ${MAX_STEP_TEXT_CHARS} characters of one step's text`, async () => {
    const sink = new MemorySink();
    const progress = progressReporter(sink, "f", "full", stage, memoryLog());
    const long = "x".repeat(MAX_STEP_TEXT_CHARS - 1);
    progress.delta(long, 0);
    progress.delta("yz", 0);
    progress.delta("more", 0);
    progress.delta("other step", 1);
    await progress.flush();
    const text = (step: number) =>
      sink
        .progress()
        .filter((e) => e.status === "delta" && e.step === step)
        .map((e) => e.text)
        .join("");
    expect(text(0)).toBe(`${long}y`);
    expect(text(1)).toBe("other step");
  });

  it("logs an append that fails and goes on; flush never rejects", async () => {
    const sink = new MemorySink();
    const log = memoryLog();
    const progress = progressReporter(sink, "f", "full", stage, log);
    sink.failWith = new Error("redis down");
    progress({ status: "started" });
    await progress.flush();
    sink.failWith = undefined;
    progress.delta("text", 0);
    await progress.flush();
    expect(log.lines).toEqual([
      { level: "warn", obj: { err: "redis down", events: 1 }, msg: "could not write progress" },
    ]);
    expect(sink.progress().map((e) => e.status)).toEqual(["delta"]);
  });

  it("describes a tool result: what was asked, its latency, and why it failed", () => {
    expect(
      toolResult(
        { name: "web_fetch", arguments: '{"url":"https://x.org"}' },
        { ok: false, latencyMs: 12, error: "403" },
      ),
    ).toEqual({
      status: "tool_result",
      tool: "web_fetch",
      url: "https://x.org",
      latency_ms: 12,
      error: "403",
    });
  });
});
