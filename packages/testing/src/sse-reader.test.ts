import { describe, expect, it } from "vitest";
import { readSseFrames, type SseFrame } from "./sse-reader.ts";

/** A body that delivers `pieces` one read at a time. */
function body(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

const fields = (frames: SseFrame[]) => frames.map(({ at: _at, ...rest }) => rest);

describe("readSseFrames", () => {
  it("reads ids, events, data and comments, one frame per blank line", async () => {
    const frames = await readSseFrames(
      new Response(
        ': OPENROUTER PROCESSING\n\nid: 1-0\ndata: {"a":1}\n\nid: 1-1\n: fusion.progress {}\n\n' +
          "id: 1-2\nevent: fusion.progress\ndata: {}\n\ndata: [DONE]\n\n",
      ),
    );
    expect(fields(frames)).toEqual([
      { comment: " OPENROUTER PROCESSING" },
      { id: "1-0", data: '{"a":1}' },
      { id: "1-1", comment: " fusion.progress {}" },
      { id: "1-2", event: "fusion.progress", data: "{}" },
      { data: "[DONE]" },
    ]);
    expect(frames.every((f) => typeof f.at === "number")).toBe(true);
  });

  it("follows the WHATWG line rules, across reads", async () => {
    const frames = await readSseFrames(
      body("data:x\r", "\ndata:  two spaces\r\r", "data: a\ndata: b\n", "\n", ":c1\n:c2\nretry: 5\n\n\n\n"),
    );
    expect(fields(frames)).toEqual([{ data: "x\n two spaces" }, { data: "a\nb" }, { comment: "c1\nc2" }]);
  });

  it("drops an unfinished frame at the end of the body", async () => {
    expect(fields(await readSseFrames(body("data: 1\n\n", "data: 2\n")))).toEqual([{ data: "1" }]);
  });

  it("stops and cancels the body when told to", async () => {
    let cancelled = false;
    const encoder = new TextEncoder();
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encoder.encode("data: tick\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    const frames = await readSseFrames(endless, (fs) => fs.length === 3);
    expect(frames).toHaveLength(3);
    expect(cancelled).toBe(true);
  });

  it("reads the Response of another fetch implementation, which is no instanceof Response", async () => {
    const foreign = { body: body("data: 1\n\n") } as unknown as Response;
    expect(fields(await readSseFrames(foreign))).toEqual([{ data: "1" }]);
  });

  it("fails on a response without a body", async () => {
    await expect(readSseFrames(new Response(null))).rejects.toThrow("no body");
  });
});
