import type { StoredEvent } from "@fusion/wire";
import { describe, expect, it } from "vitest";
import { DONE, frameFor } from "./sse-frames.ts";

describe("frameFor", () => {
  const stored = (type: StoredEvent["type"], raw: string): StoredEvent => ({ id: "17-3", type, raw });

  it("relays a chunk byte for byte with its entry id", () => {
    expect(frameFor(stored("chunk", '{"a":1}'), { progressEvents: false })).toBe(
      'id: 17-3\ndata: {"a":1}\n\n',
    );
  });

  it("sends progress as a comment by default and as a named event when asked", () => {
    expect(frameFor(stored("progress", "{}"), { progressEvents: false })).toBe(
      "id: 17-3\n: fusion.progress {}\n\n",
    );
    expect(frameFor(stored("progress", "{}"), { progressEvents: true })).toBe(
      "id: 17-3\nevent: fusion.progress\ndata: {}\n\n",
    );
  });

  it("ends the stream with [DONE] on final and error", () => {
    expect(frameFor(stored("final", "{}"), { progressEvents: false })).toBe(`id: 17-3\n${DONE}`);
    expect(frameFor(stored("error", "{}"), { progressEvents: true })).toBe(`id: 17-3\n${DONE}`);
  });
});
